"""`geulssi demo`: the newcomer's main job, end to end on the embedded defaults, as a user would do it.

Starts `geulssi serve` (API, one worker, a local Kafka-compatible broker, SQLite under ./var), then acts as
a person: downloads the template, creates a font, uploads photos of the three filled-in pages, submits,
watches the build and downloads the finished font. The handwriting comes from the test suite's photo
simulator (a handwriting-style font pasted into the template and "photographed"), so the demo needs no
paper and no phone.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[2]


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the whole product once on simulated photos (embedded defaults), then keep serving",
        description="Starts the local site, makes a font from simulated photos of a filled-in template "
        "and saves it under --out. Keeps the site running at the printed address until Ctrl-C, "
        "unless --exit is given.",
    )
    demo.add_argument("--port", type=int, default=8000, help="port of the local site (default 8000)")
    demo.add_argument("--out", type=Path, default=Path("var/demo"), help="where the font is saved")
    demo.add_argument("--exit", action="store_true", help="stop the site once the font is saved")
    demo.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the build")
    demo.set_defaults(func=cmd_demo)


DEMO_HAND = "NanumPen.ttf"  # Nanum Pen Script (fonts-nanum-extra): covers every template character


def _simulated_pages() -> list[tuple[str, bytes]]:
    """Photos of every template page, filled in with a handwriting-style font (tests/simulator)."""
    if not (REPO_ROOT / "tests" / "simulator").is_dir():
        raise ValueError("the demo needs the repository checkout (tests/simulator); run it from a clone")
    sys.path.insert(0, str(REPO_ROOT))
    from templates.layout import build_layout
    from tests.simulator import simulate
    from tests.simulator.handwriting import handwriting_fonts

    # One hand on every page, as one person writes them (else the simulator picks a font per page).
    hand = next((f for f in handwriting_fonts() if f.name == DEMO_HAND), None)
    pages = build_layout().pages
    return [
        (
            f"page-{p.page}.jpg",
            simulate(
                p.page, seed=2019, size=(2000, 1500), tilt=12, empty=0, overflow=0, faint=0, font=hand
            ).jpeg,
        )
        for p in tqdm(pages, desc="photographing the filled-in pages", unit="page")
    ]


def _wait_until_up(client: httpx.Client, server: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise OSError(f"`geulssi serve` exited with code {server.returncode}; see the log above")
        try:
            if client.get("/api/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise OSError("the local site did not come up within 60 s")


def _check(response: httpx.Response) -> httpx.Response:
    """Return the response, or raise with the API's own message when it refused the request."""
    if response.status_code >= 400:
        raise ValueError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response


def _watch_build(
    client: httpx.Client, font_id: str, headers: dict[str, str], timeout: float
) -> dict[str, Any]:
    """Poll the font's status with a progress bar until the job ends; return the final status."""
    deadline = time.monotonic() + timeout
    with tqdm(total=100, desc="building the font", unit="%", bar_format="{l_bar}{bar}| {postfix}") as bar:
        while time.monotonic() < deadline:
            status: dict[str, Any] = _check(client.get(f"/api/fonts/{font_id}", headers=headers)).json()
            job = status["job"] or {}
            bar.n = float(job.get("progress") or 0.0)
            bar.set_postfix_str(f"{job.get('state')} · {job.get('stage') or 'waiting'}")
            if job.get("state") in ("succeeded", "failed", "cancelled"):
                return status
            time.sleep(2)
    raise OSError(f"the build did not finish within {timeout:.0f} s")


def cmd_demo(args: argparse.Namespace) -> int:
    base = f"http://127.0.0.1:{args.port}"
    photos = _simulated_pages()
    operator_token = os.environ.get("GEULSSI_OPERATOR_TOKEN") or secrets.token_urlsafe(24)
    env = {**os.environ, "GEULSSI_PORT": str(args.port), "GEULSSI_OPERATOR_TOKEN": operator_token}
    args.out.mkdir(parents=True, exist_ok=True)
    server_log = (args.out / "serve.log").open("ab")
    print(f"starting the local site (API, worker, broker, SQLite); its log: {args.out / 'serve.log'}")
    server = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "serve"], env=env, stdout=server_log, stderr=server_log
    )
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            _wait_until_up(client, server, time.monotonic() + 60)
            template = _check(client.get("/api/template.pdf"))
            (args.out / "template.pdf").write_bytes(template.content)
            created = _check(client.post("/api/fonts", json={"name": "Geulssi Demo"})).json()
            headers = {"Authorization": f"Bearer {created['token']}"}
            for name, jpeg in photos:
                report = _check(
                    client.post(
                        f"/api/fonts/{created['id']}/pages",
                        headers=headers,
                        files=[("photos", (name, jpeg, "image/jpeg"))],
                    )
                ).json()
                for page in report["pages"]:
                    print(
                        f"  page {page['page']}: {page['cells_ok']} cells ok, "
                        f"{len(page['to_rewrite'])} to rewrite"
                    )
            _check(client.post(f"/api/fonts/{created['id']}/submit", headers=headers))
            status = _watch_build(client, created["id"], headers, args.timeout)
            if status["job"]["state"] != "succeeded":
                raise ValueError(f"the build failed: {status['job'].get('error')}")
            for kind, file_name in (
                ("ttf", "GeulssiDemo.ttf"),
                ("woff2", "GeulssiDemo.woff2"),
                ("preview", "GeulssiDemo-preview.png"),
            ):
                data = client.get(status["downloads"][kind], headers=headers)
                (args.out / file_name).write_bytes(_check(data).content)
        print(
            f"\nyour font: {args.out / 'GeulssiDemo.ttf'} (preview: {args.out / 'GeulssiDemo-preview.png'})"
        )
        print(f"font id {created['id']}, token {created['token']}")
        print(f"operators: {base}/ops (token {operator_token})")
        if args.exit:
            return 0
        print(f"the site is running at {base} — Ctrl-C to stop")
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(30)
        server_log.close()

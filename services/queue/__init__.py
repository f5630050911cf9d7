"""The queue between intake and workers: message contract, outbox relay, broker helper, Kafka figures."""

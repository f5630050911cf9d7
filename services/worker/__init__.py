"""The worker: a Kafka consumer loop, a handler with no Kafka in it, and the outbox relay."""

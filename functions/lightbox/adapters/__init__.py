"""Adapters: the ports of ``lightbox.ports`` implemented over S3, SQS and PostgreSQL."""

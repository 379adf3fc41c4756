"""The local runtime: Lightbox's functions on embedded PostgreSQL and S3 + SQS.

``python -m infra.local up`` (``./dev.sh up``) runs the four functions as AWS would: behind
an API Gateway stand-in and an SQS event-source stand-in, with resources made from
``template.yaml``.
"""

"""Deploying to AWS: the build and checks behind ``deploy.sh``.

``python -m infra.aws.build`` makes the Lambda packages and the template CloudFormation
receives, and refuses to hand over anything that would fail there: a handler that does not
import, a package over Lambda's size limit, a template that does not translate or lint.
"""

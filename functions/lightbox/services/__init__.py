"""The use cases. Plain functions over the ports: no Lambda, Chalice, HTTP, boto3 or psycopg."""

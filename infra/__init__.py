"""Infrastructure that is not deployed as a function: the local runtime."""

"""HTTP: one home for the API's boundary. ``app`` declares routes that map errors,
``inputs`` reads requests into service values, ``outputs`` writes the JSON answers."""

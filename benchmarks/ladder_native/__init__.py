"""The example service's ``GET /users/``, natively async by hand, for benchmarks.ladder_load.

The same tables, models and response schemas as guides/example-service (``models.py`` and
``schemas.py`` repeat the parts the endpoint touches; the benchmark checks that its responses
equal the legacy service's), served the way a careful engineer writes it on ``AsyncSession``:
``async_sessionmaker(create_async_engine(mysql+asyncmy://...), expire_on_commit=False)``, one
session per request from an ``async`` dependency, and ``selectinload`` of everything the
response model reads, so validating the response never touches the database.
"""

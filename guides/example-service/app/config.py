"""Settings read from the environment once, at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Settings:
    # SQLite by default so the service runs anywhere; production sets a MariaDB URL such as
    # mysql+pymysql://user:password@db-host:3306/example
    database_url: str = field(
        default_factory=lambda: os.environ.get("DATABASE_URL", "sqlite:///./example.db")
    )
    export_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("EXPORT_DIR", "./exports"))
    )
    password_hash_iterations: int = field(
        default_factory=lambda: int(os.environ.get("PASSWORD_HASH_ITERATIONS", "120000"))
    )
    welcome_sender: str = "welcome@example.com"


settings = Settings()

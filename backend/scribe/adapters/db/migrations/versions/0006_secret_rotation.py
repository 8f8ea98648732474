"""Service secrets keep the previous value and until when it stays valid (secret rotation).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from scribe.adapters.db.models import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_secrets") as batch:
        batch.add_column(sa.Column("previous_value", sa.Text(), nullable=True))
        batch.add_column(sa.Column("previous_until", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_secrets") as batch:
        batch.drop_column("previous_until")
        batch.drop_column("previous_value")

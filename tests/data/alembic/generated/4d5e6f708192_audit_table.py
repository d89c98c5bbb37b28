"""audit table

Revision ID: 4d5e6f708192
Revises: 2b3c4d5e6f70
Create Date: 2026-11-22 04:29:10.077652

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '4d5e6f708192'
down_revision: Union[str, Sequence[str], None] = '2b3c4d5e6f70'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass

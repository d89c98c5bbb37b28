"""after merge

Revision ID: 6f708192a3b4
Revises: 5e6f708192a3
Create Date: 2026-11-22 04:29:11.027791

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '6f708192a3b4'
down_revision: Union[str, Sequence[str], None] = '5e6f708192a3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = '4d5e6f708192'


def upgrade() -> None:
    """Upgrade schema."""
    pass


def downgrade() -> None:
    """Downgrade schema."""
    pass

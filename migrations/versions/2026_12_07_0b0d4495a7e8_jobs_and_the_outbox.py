"""jobs and the outbox

Tracked jobs (label prints, large imports) get a row of their own that progress pages read
and a restart does not lose; a print log entry points to its job instead of holding a
state. The outbox becomes a queue: a state, attempts, the next attempt and the last error.
Messages already sent stay "sent"; those kept unsent (no mail server) become "local".

Revision ID: 0b0d4495a7e8
Revises: 5d1e7a3c9b42
Create Date: 2026-12-07 00:28:57.559658
"""

import sqlalchemy as sa
from alembic import op


revision = '0b0d4495a7e8'
down_revision = '5d1e7a3c9b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('collectivite_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['collectivite_id'], ['collectivites.id'], name=op.f('fk_jobs_collectivite_id_collectivites')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_collectivite_id'), ['collectivite_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=10), nullable=False, server_default='local'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_state'), ['state'], unique=False)
    outbox = sa.table('outbox', sa.column('sent', sa.Boolean()), sa.column('state', sa.String()))
    op.execute(outbox.update().where(outbox.c.sent.is_(True)).values(state='sent'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('state', server_default=None)
        batch_op.alter_column('attempts', server_default=None)
        batch_op.drop_column('sent')

    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_print_jobs_job_id'), ['job_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_print_jobs_job_id_jobs'), 'jobs', ['job_id'], ['id'])
        batch_op.drop_column('done')
        batch_op.drop_column('error')
        batch_op.drop_column('state')



def downgrade():
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.VARCHAR(length=10), nullable=False, server_default='done'))
        batch_op.add_column(sa.Column('error', sa.VARCHAR(length=300), nullable=True))
        batch_op.add_column(sa.Column('done', sa.INTEGER(), nullable=False, server_default='0'))
        batch_op.drop_constraint(batch_op.f('fk_print_jobs_job_id_jobs'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_print_jobs_job_id'))
        batch_op.drop_column('job_id')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent', sa.BOOLEAN(), nullable=False, server_default=sa.false()))
    outbox = sa.table('outbox', sa.column('sent', sa.Boolean()), sa.column('state', sa.String()))
    op.execute(outbox.update().where(outbox.c.state == 'sent').values(sent=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_state'))
        batch_op.drop_column('sent_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('state')
        batch_op.drop_column('html')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_user_id'))
        batch_op.drop_index(batch_op.f('ix_jobs_state'))
        batch_op.drop_index(batch_op.f('ix_jobs_created_at'))
        batch_op.drop_index(batch_op.f('ix_jobs_collectivite_id'))

    op.drop_table('jobs')

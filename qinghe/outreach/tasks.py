from __future__ import annotations

from django_tasks import task

from . import services


@task()
def campaign_queue_task(*, campaign_id: int) -> int:
    return services.campaign_queue(campaign_id=campaign_id)


@task()
def job_digest_task() -> int:
    from .digest import job_digest_queue

    return job_digest_queue()

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qinghe.core"
    label = "core"
    verbose_name = "平台基础"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import dbpriority

        # QINGHE_DB_BACKEND_NICE (the task worker's unit): its backends at its low priority
        connection_created.connect(dbpriority.connection_opened, dispatch_uid="qinghe-db-nice")

from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "apps.members"
    label = "members"
    verbose_name = "Member activity and the kicker"

    def ready(self) -> None:
        from apps.growth.services import report
        from apps.members import dashboard
        from apps.members.services import growth_lines

        report.add_lines(growth_lines)  # /growth shows activity and the kicker (SPEC M3, M4)
        dashboard.register_panels()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the development superuser (DEV_SUPERUSER=user:password) when no superuser exists; refused unless DEBUG."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            # A known password on a superuser is a development convenience only (check torghut.E004 refuses it too).
            raise CommandError("ensure_dev_superuser runs only with DEBUG on; create production users with createsuperuser")
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("superuser exists; none created")
            return
        username, _, password = settings.DEV_SUPERUSER.partition(":")
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"created development superuser  user: {username}  password: {password}")

"""Write the stage contract as the ES module the pages import (operator/static/operator/contract.js),
or with --check only say whether that file is current (exit status 1 when it is not)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stage.contract.document import contract_module


def module_path() -> Path:
    return Path(settings.BASE_DIR) / "operator" / "static" / "operator" / "contract.js"


class Command(BaseCommand):
    help = "Write operator/static/operator/contract.js from the stage contract (stage/contract/)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="only check that the file is current")

    def handle(self, *args, check: bool = False, **options) -> None:
        path, text = module_path(), contract_module()
        current = path.exists() and path.read_text() == text
        if check:
            if not current:
                raise CommandError(f"{path} differs from the stage contract: run `manage.py stage_contract`.")
            self.stdout.write(f"{path} is current.")
            return
        if not current:
            path.write_text(text)
        self.stdout.write(f"{path} {'written' if not current else 'was current'}.")

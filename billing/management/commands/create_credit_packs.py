"""`manage.py create_credit_packs`: the default credit packs, and with --stripe their prices."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.selectors import credit_packs_on_sale
from billing.services.packs import credit_pack_stripe_price_create, credit_packs_defaults_create
from billing.stripe_client import payments_configured
from rollerai.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Create the default credit packs that don't exist yet (existing packs are left as they "
        "are). With --stripe, also create a Stripe product and price for every active pack "
        "that has none, using STRIPE_SECRET_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--currency", default="usd", help="For new packs (default: usd).")
        parser.add_argument(
            "--stripe", action="store_true", help="Create matching Stripe products and prices."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["stripe"] and not payments_configured():
            raise CommandError("--stripe needs STRIPE_SECRET_KEY to be set.")
        try:
            packs = credit_packs_defaults_create(currency=options["currency"].lower())
        except DomainError as error:
            raise CommandError(error.message)
        for pack, created in packs:
            self.stdout.write(f"{'Created' if created else 'Kept'} pack {pack}")
        if not options["stripe"]:
            return
        for pack in credit_packs_on_sale():
            had_price = bool(pack.stripe_price_id)
            try:
                credit_pack_stripe_price_create(pack=pack)
            except DomainError as error:
                raise CommandError(error.message)
            action = "Kept" if had_price else "Created"
            self.stdout.write(f"{action} Stripe price {pack.stripe_price_id} for {pack.name}")

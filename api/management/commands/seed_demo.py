from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from api import demo, money, queries, roles
from api.bankday import bank_day
from api.models import Account, StandingOrder, User
from api.services.accounts import account_open
from api.services.standing import create_order
from api.services.transfers import deposit

# Local demo credentials only: production never runs this command (it refuses without DEBUG
# unless --force), and these users have no access outside a developer machine.
STAFF = ("staff@nexus.local", "Staff-Demo-Pass-2026")  # a superuser: every permission
# One staff member per role (api.roles): what each may do is in the README's table.
ROLE_USERS = [
    ("teller@nexus.local", "Teller-Demo-Pass-2026", roles.TELLER, "Tala", "Teller"),
    ("supervisor@nexus.local", "Supervisor-Demo-Pass-2026", roles.SUPERVISOR, "Sami", "Supervisor"),
    ("risk@nexus.local", "Risk-Demo-Pass-2026", roles.RISK_ANALYST, "Rana", "Analyst"),
    ("auditor@nexus.local", "Auditor-Demo-Pass-2026", roles.AUDITOR, "Adel", "Auditor"),
]
CUSTOMERS = [
    ("alice@nexus.local", "Alice-Demo-Pass-2026", "Alice", "Haddad", "JO"),
    ("bob@nexus.local", "Bob-Demo-Pass-2026", "Bob", "Khoury", "JO"),
]
OPENING = {Account.Type.SAVINGS: Decimal("5000.000"), Account.Type.USD: Decimal("3000.00"),
           Account.Type.EUR: Decimal("2000.00")}


class Command(BaseCommand):
    help = "Create a staff user and two demo customers with funded JOD, USD and EUR accounts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, force=False, **options):
        from django.conf import settings

        if not settings.DEBUG and not force:
            self.stdout.write("seed_demo: DEBUG is off; not creating demo users (use --force).")
            return
        with transaction.atomic():
            staff, created = User.objects.get_or_create(
                email=STAFF[0], defaults={"is_staff": True, "is_superuser": True, "first_name": "Nexus",
                                          "last_name": "Staff"})
            if created:
                staff.set_password(STAFF[1])
                staff.save()
            for email, password, role, first, last in ROLE_USERS:
                member, created = User.objects.get_or_create(
                    email=email, defaults={"is_staff": True, "first_name": first, "last_name": last})
                if created:
                    member.set_password(password)
                    member.save()
                    member.groups.add(Group.objects.get(name=role))
            for email, password, first, last, country in CUSTOMERS:
                user, created = User.objects.get_or_create(
                    email=email, defaults={"first_name": first, "last_name": last, "country": country})
                if created:
                    user.set_password(password)
                    user.save()
                for type_, amount in OPENING.items():
                    if not Account.objects.filter(owner=user, type=type_).exists():
                        number = demo.ACCOUNTS[(email, type_)]
                        taken = Account.objects.filter(pk=number).exists()  # a database seeded before
                        account = account_open(owner=user, type=type_, account_number=None if taken else number)
                        deposit(staff=staff, account_number=account.pk, amount=amount, description="Opening deposit")
            alice = User.objects.get(email=CUSTOMERS[0][0])
            if not StandingOrder.objects.filter(owner=alice).exists():  # her rent to Bob, from the 1st of next month
                rent_day = (bank_day().replace(day=1) + timedelta(days=32)).replace(day=1)
                create_order(user=alice, sender_number=Account.objects.get(owner=alice, type=Account.Type.SAVINGS).pk,
                             receiver_number=Account.objects.get(owner__email=CUSTOMERS[1][0],
                                                                 type=Account.Type.SAVINGS).pk,
                             amount=Decimal("250.000"), interval="monthly", first_date=rent_day, description="Rent",
                             stepped_up=True)  # set up at the branch, not a payment made without a code
        # The embedded server stops when idle, so autovacuum rarely runs: give the planner statistics.
        queries.analyze()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in with:"))
        self.stdout.write(f"  superuser (admin + Swagger): {STAFF[0]} / {STAFF[1]}")
        for email, password, role, *_ in ROLE_USERS:
            self.stdout.write(f"  {role.lower()}: {email} / {password}")
        for email, password, *_ in CUSTOMERS:
            accounts = ", ".join(f"{a.type} {a.account_number} {money.fmt(a.balance, a.currency)} {a.currency}"
                                 for a in Account.objects.filter(owner__email=email).order_by("created_at"))
            self.stdout.write(f"  customer: {email} / {password}  [{accounts}]")

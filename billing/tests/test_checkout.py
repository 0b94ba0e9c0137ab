"""Buying a pack: the buy page lists what is on sale, choosing a pack opens a Stripe Checkout
Session (made by the real stripe SDK against a loopback stand-in of Stripe's API), and the buyer
comes back to a success or cancel page. Without keys nothing breaks: the page says so."""

from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from billing.models import CreditPack, Payment
from billing.tests.conftest import SECRET_KEY
from billing.tests.stripe_stand_in import StripeStandIn

NOT_CONFIGURED = (
    "Payments are not configured on this site. An administrator can add credits to your account."
)


def test_choosing_a_pack_opens_stripe_checkout_for_its_price(
    alice_client: Client, user: User, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    response = alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})

    [request] = stripe_api.requests
    assert (request.method, request.path) == ("POST", "/v1/checkout/sessions")
    assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.form == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "2000",
        "line_items[0][price_data][product_data][name]": "Creator",
        "line_items[0][price_data][product_data][description]": "250 RollerAI credits",
        "line_items[0][quantity]": "1",
        "client_reference_id": str(user.pk),
        "metadata[pack_id]": str(pack.pk),
        "success_url": "http://testserver/billing/checkout/success/"
        "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://testserver/billing/checkout/canceled/",
    }
    payment = Payment.objects.get()
    assert response.status_code == 303
    assert response["Location"] == payment.checkout_url
    assert response["Location"].startswith(
        f"https://checkout.stripe.com/c/pay/{payment.stripe_checkout_session_id}"
    )
    assert payment.stripe_checkout_session_id.startswith("cs_test_")
    assert (payment.user, payment.pack, payment.status) == (user, pack, "pending")
    assert (payment.credits, payment.amount, payment.currency) == (250, 2000, "usd")


def test_a_pack_with_a_stripe_price_is_sold_at_that_price(
    alice_client: Client, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    stripe_api.prices["price_1RollerAICreator"] = {"unit_amount": 2000, "currency": "usd"}
    pack.stripe_price_id = "price_1RollerAICreator"
    pack.save()

    response = alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})

    assert response.status_code == 303
    form = stripe_api.requests[0].form
    assert form["line_items[0][price]"] == "price_1RollerAICreator"
    assert form["line_items[0][quantity]"] == "1"
    assert not any(key.startswith("line_items[0][price_data]") for key in form)


def test_a_pack_that_is_not_on_sale_gets_a_clear_message(
    alice_client: Client, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    pack.active = False
    pack.save()

    inactive = alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})
    unknown = alice_client.post("/billing/checkout/", {"pack": "999999"})
    missing = alice_client.post("/billing/checkout/", {"pack": "three"})

    message = "That credit pack is not on sale any more. Choose one of the packs below."
    assert (inactive.status_code, unknown.status_code) == (404, 404)
    assert message in inactive.content.decode()
    assert message in unknown.content.decode()
    assert missing.status_code == 400
    assert "Choose one of the credit packs." in missing.content.decode()
    assert not stripe_api.requests
    assert not Payment.objects.exists()


def test_when_stripe_refuses_the_buyer_is_told_and_not_charged(
    alice_client: Client, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    stripe_api.next_failure = (
        400,
        {"error": {"type": "invalid_request_error", "message": "Invalid currency: usd."}},
    )

    response = alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})

    assert response.status_code == 503
    assert (
        "The payment page could not be opened; you have not been charged. Try again in a minute."
        in response.content.decode()
    )
    assert len(stripe_api.requests) == 1
    assert not Payment.objects.exists()


def test_without_keys_the_buy_page_shows_the_packs_and_says_payments_are_off(
    alice_client: Client, pack: CreditPack, settings: Settings
) -> None:
    settings.STRIPE_SECRET_KEY = ""

    page = alice_client.get("/billing/")
    checkout = alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Creator" in html and "250 credits" in html and "20.00 USD" in html
    assert NOT_CONFIGURED in html
    assert "disabled>Buy</button>" in html
    assert checkout.status_code == 503
    assert NOT_CONFIGURED in checkout.content.decode()
    assert not Payment.objects.exists()


def test_the_buy_page_lists_active_packs_in_order_with_the_balance(
    alice_client: Client, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    CreditPack.objects.create(name="Starter", credits=50, price_cents=500, sort_order=10)
    CreditPack.objects.create(name="Retired", credits=5, price_cents=100, active=False)

    page = alice_client.get("/billing/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<strong id="balance-large">10</strong>' in html
    assert html.index("Starter") < html.index("Creator")
    assert "Retired" not in html
    assert NOT_CONFIGURED not in html
    assert "disabled>Buy</button>" not in html


def test_payments_appear_in_the_buyers_history_only(
    alice_client: Client, bob_client: Client, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})

    alice_page = alice_client.get("/billing/").content.decode()
    bob_page = bob_client.get("/billing/").content.decode()

    assert "Waiting for checkout" in alice_page and "20.00 USD" in alice_page
    assert "continue to payment" in alice_page
    assert "Waiting for checkout" not in bob_page


def test_the_success_page_says_the_credits_are_on_their_way(
    alice_client: Client, bob_client: Client, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})
    payment = Payment.objects.get()
    url = f"/billing/checkout/success/?session_id={payment.stripe_checkout_session_id}"

    waiting = alice_client.get(url)
    payment.status = Payment.Status.PAID
    payment.save()
    arrived = alice_client.get(url)
    someone_else = bob_client.get(url)

    assert waiting.status_code == 200
    assert "Payment received: your credits arrive in a moment (250 credits)." in (
        waiting.content.decode()
    )
    assert "Your 250 credits have arrived." in arrived.content.decode()
    assert someone_else.status_code == 200
    assert "250 credits" not in someone_else.content.decode()


def test_the_cancel_page_says_nothing_was_charged(alice_client: Client) -> None:
    response = alice_client.get("/billing/checkout/canceled/")

    assert response.status_code == 200
    assert "You were not charged, and your balance is unchanged." in response.content.decode()


def test_buying_needs_a_signed_in_user(client: Client, pack: CreditPack) -> None:
    response = client.post("/billing/checkout/", {"pack": str(pack.pk)})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Payment.objects.exists()


def test_staff_see_payments_and_edit_packs_in_the_admin(
    admin_client: Client, alice_client: Client, pack: CreditPack, stripe_api: StripeStandIn
) -> None:
    alice_client.post("/billing/checkout/", {"pack": str(pack.pk)})
    payment = Payment.objects.get()

    payments = admin_client.get(
        "/admin/billing/payment/", {"q": payment.stripe_checkout_session_id}
    )
    detail = admin_client.get(f"/admin/billing/payment/{payment.pk}/change/")
    added = admin_client.post(
        "/admin/billing/creditpack/add/",
        {
            "name": "Mega",
            "credits": 5000,
            "price_cents": 25000,
            "currency": "EUR",
            "sort_order": 40,
        },
    )
    lowered = admin_client.post(
        "/admin/billing/creditpack/add/",
        {
            "name": "Mega",
            "credits": 5000,
            "price_cents": 25000,
            "currency": "eur",
            "sort_order": 40,
        },
    )

    assert payments.status_code == 200
    assert "Waiting for checkout" in payments.content.decode()
    assert "20.00 USD" in payments.content.decode()
    assert detail.status_code == 200
    assert payment.stripe_checkout_session_id in detail.content.decode()
    assert added.status_code == 200
    assert "Use the lower-case ISO code, e.g. usd or eur." in added.content.decode()
    assert lowered.status_code == 302
    assert CreditPack.objects.get(name="Mega").price_display == "250.00 EUR"
    assert admin_client.get("/admin/billing/stripeevent/").status_code == 200

from django.urls import path

from billing import views

urlpatterns = [
    path("", views.overview, name="billing"),
    path("checkout/", views.checkout, name="billing-checkout"),
    path("checkout/success/", views.checkout_success, name="billing-success"),
    path("checkout/canceled/", views.checkout_canceled, name="billing-canceled"),
    path("stripe/webhook/", views.stripe_webhook, name="billing-stripe-webhook"),
]

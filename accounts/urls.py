from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.account, name="account"),
    path("signup/", views.signup, name="signup"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("api-keys/", views.api_key_new, name="api-key-new"),
    path("api-keys/<int:api_key_id>/revoke/", views.api_key_delete, name="api-key-revoke"),
    path("firebase/", views.firebase_sign_in, name="firebase-sign-in"),
    path("firebase/link/", views.firebase_link_new, name="firebase-link"),
    path("discord/code/", views.discord_link_code_new, name="discord-link-code"),
    path("discord/unlink/", views.discord_unlink_request, name="discord-unlink"),
    path("delete/", views.account_delete_request, name="account-delete"),
]

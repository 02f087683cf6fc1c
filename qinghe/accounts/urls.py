from django.urls import path

from . import views, views_register, views_wechat

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("me/", views.profile, name="profile"),
    path("register/", views_register.register, name="register"),
    path("register/verify/", views_register.register_verify, name="register_verify"),
    path("wechat/login/", views_wechat.wechat_login, name="wechat_login"),
    path("wechat/bind/", views_wechat.wechat_bind_start, name="wechat_bind"),
    path("wechat/callback/", views_wechat.wechat_callback, name="wechat_callback"),
    path("wechat/unbind/", views_wechat.wechat_unbind_view, name="wechat_unbind"),
]

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cdss.accounts"
    label = "accounts"

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from cdss.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("CDSS", {"fields": ("role",)}))

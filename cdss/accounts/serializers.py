from rest_framework import serializers

from cdss.accounts.models import User


class UserOutputSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "last_login"]
        read_only_fields = fields

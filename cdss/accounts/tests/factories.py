import factory
from django.contrib.auth.hashers import make_password

from cdss.accounts.models import Role, User

PASSWORD = "correct-horse-battery-1"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.CLINICIAN
    # The hash is given, not set with set_password: that is a password change, which would end
    # the tokens tests mint for the user before it.
    password = factory.LazyFunction(lambda: make_password(PASSWORD))

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()

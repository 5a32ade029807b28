from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts are created when the coordinator approves an organisation, or by an
        # organisation for its people; there is no public sign-up.
        return False

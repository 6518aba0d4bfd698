"""Single sign-on: OpenID Connect and LDAP/Active Directory sign-in, directory identities, and
the mapping from directory groups to workspace roles."""

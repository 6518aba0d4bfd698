"""How people join a workspace: an admin invites an e-mail with a role (never above their own),
and the invitee, signed in, accepts or declines; admins list and revoke pending invitations."""

from __future__ import annotations

from zhiku.accounts.invitations import Invitation
from zhiku.accounts.principal import Principal
from zhiku.accounts.scope import check_role, check_unrestricted
from zhiku.accounts.store import AccountStore
from zhiku.core.errors import Conflict


def invite(
    store: AccountStore, caller: Principal, email: str, role: str, hours: float
) -> tuple[Invitation, str]:
    """A new invitation to the caller's workspace and its one-time token. The answer is the same
    whether or not the e-mail has an account; a present member is a ``Conflict``."""
    with store.audit(caller.workspace_id).attempt("invitation.create", "invitation", None,
                                                  email, detail={"role": role}) as audit:
        check_unrestricted(caller)
        check_role(caller, role)
        if any(m.email.lower() == email.lower() for m in store.members(caller.workspace_id)):
            raise Conflict("that e-mail is already a member of this workspace")
        invitation, token = store.invitations.create(
            caller.workspace_id, email, role, caller.user_id, hours)
        audit.target_id = invitation.id
    return invitation, token


def pending(store: AccountStore, caller: Principal) -> list[Invitation]:
    """The caller's workspace's pending invitations."""
    check_unrestricted(caller)
    return store.invitations.for_workspace(caller.workspace_id)


def revoke(store: AccountStore, caller: Principal, invitation_id: int) -> None:
    """Revoke a pending invitation (its role must be one the caller may grant)."""
    with store.audit(caller.workspace_id).attempt("invitation.revoke", "invitation",
                                                  invitation_id) as audit:
        check_unrestricted(caller)
        invitation = store.invitations.get(caller.workspace_id, invitation_id)
        audit.target_name, audit.detail["role"] = invitation.email, invitation.role
        check_role(caller, invitation.role)
        store.invitations.delete(invitation.id)


def addressed_to(store: AccountStore, caller: Principal) -> list[Invitation]:
    """Pending invitations to the signed-in user's e-mail, in any workspace."""
    return store.invitations.for_email(store.user_email(caller.require_user()))


def accept(store: AccountStore, caller: Principal, invitation_id: int) -> tuple[Invitation, str]:
    """Join the invitation's workspace; the invitation and the user's role there (a member
    keeps the role they had)."""
    user_id = caller.require_user()
    invitation = store.invitations.for_user(store.user_email(user_id), invitation_id)
    store.invitations.accept(invitation, user_id)
    role = str(store.role_of(invitation.workspace_id, user_id))
    store.audit(invitation.workspace_id)("invitation.accept", "invitation", invitation.id,
                                         invitation.email, detail={"role": role})
    return invitation, role


def decline(store: AccountStore, caller: Principal, invitation_id: int) -> None:
    """Turn down an invitation addressed to the signed-in user; it is deleted."""
    user_id = caller.require_user()
    invitation = store.invitations.for_user(store.user_email(user_id), invitation_id)
    store.invitations.delete(invitation.id)
    store.audit(invitation.workspace_id)("invitation.decline", "invitation", invitation.id,
                                         invitation.email)

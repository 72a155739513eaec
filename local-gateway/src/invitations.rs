//! The invitation e-mail, played locally. Cognito e-mails an invited user (ACCT-1: staff and
//! portal patients) a temporary password chosen by Cognito; the local stack sends no mail, so
//! `POST /_local/invitations {"username":"usr_…"}` stands in for reading it: as the operator
//! it gives the invited user a new temporary password (AdminSetUserPassword, not permanent)
//! and answers it. The user then signs in as an invited user does in AWS: Cognito asks for a
//! password of its own first (NEW_PASSWORD_REQUIRED). A user who has signed in already is
//! refused (409), as a re-invitation is.

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::types::UserStatusType;
use carethread_core::{Error, Result};

pub struct Mailbox {
    client: aws_sdk_cognitoidentityprovider::Client,
    pool_id: String,
}

impl Mailbox {
    pub fn new(operator: &SdkConfig, pool_id: String) -> Mailbox {
        Mailbox { client: aws_sdk_cognitoidentityprovider::Client::new(operator), pool_id }
    }

    /// The temporary password the invitation of `username` would carry.
    pub async fn temporary_password(&self, username: &str) -> Result<String> {
        let user = self.client.admin_get_user().user_pool_id(&self.pool_id).username(username).send().await;
        match user {
            Ok(u) if u.user_status() == Some(&UserStatusType::ForceChangePassword) => {}
            Ok(_) => return Err(Error::Conflict("this user has signed in already: no invitation is pending".into())),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_user_not_found_exception()) => {
                return Err(Error::NotFound("invitation"))
            }
            Err(e) => return Err(Error::internal_msg(&format!("AdminGetUser: {e}"))),
        }
        // The pool's rules: 12 characters or more, upper and lower case, a number.
        let password = format!("Invited-{}-Z9", carethread_core::domain::new_id(""));
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(username)
            .password(&password)
            .permanent(false)
            .send()
            .await
            .map_err(|e| Error::internal_msg(&format!("AdminSetUserPassword: {e}")))?;
        Ok(password)
    }
}

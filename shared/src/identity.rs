//! The stack's Cognito user pool, as the directory drives it (ACCT-1, ACCT-2). The directory
//! record is always written first, and no Cognito user exists that has no directory record
//! (DESIGN.md, Identity); `ops::accounts::sync_*` then bring the user in line with the record
//! with these calls, each safe to repeat, so a retry completes what a failed call left.

use crate::domain::Role;
use crate::error::{Error, Result};
use crate::store::sdk_error;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType, MessageActionType, UserStatusType};

/// The claims the directory owns: written only here, never by the app client (its
/// WriteAttributes exclude them; template.yaml).
pub const ATTR_PRACTICE: &str = "custom:practice_id";
pub const ATTR_ROLE: &str = "custom:role";
pub const ATTR_PATIENT: &str = "custom:patient_id";

/// Who a Cognito user is, as the directory records it.
#[derive(Clone, Debug)]
pub struct Account<'a> {
    /// The Cognito username: the staff id, or the patient id for a portal user.
    pub username: &'a str,
    /// Where Cognito sends the invitation: the e-mail address, else the phone (a patient may
    /// have only a phone on record).
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub practice_id: &'a str,
    pub role: Role,
}

impl Account<'_> {
    fn medium(&self) -> DeliveryMediumType {
        if self.email.is_some() {
            DeliveryMediumType::Email
        } else {
            DeliveryMediumType::Sms
        }
    }

    /// The attributes the directory owns. A new user's address is marked verified (the
    /// administrator typed it and Cognito's invitation goes there); an existing user's changed
    /// address is not, so Cognito verifies it with its owner before it becomes a sign-in
    /// alias or receives a password reset.
    fn attributes(&self, new_user: bool) -> Vec<AttributeType> {
        let attr =
            |name: &str, value: &str| AttributeType::builder().name(name).value(value).build().expect("name set");
        let mut attrs = vec![attr(ATTR_PRACTICE, self.practice_id), attr(ATTR_ROLE, self.role.as_str())];
        if let Some(email) = self.email {
            attrs.push(attr("email", email));
            if new_user {
                attrs.push(attr("email_verified", "true"));
            }
        }
        if let Some(phone) = self.phone {
            attrs.push(attr("phone_number", phone));
            if new_user {
                attrs.push(attr("phone_number_verified", "true"));
            }
        }
        if self.role == Role::Patient {
            attrs.push(attr(ATTR_PATIENT, self.username));
        }
        attrs
    }
}

/// Cognito's refusals that are the request's, not ours: an address another user signs in
/// with already.
fn cognito_error<E, R>(e: aws_sdk_cognitoidentityprovider::error::SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match e.code() {
        Some("AliasExistsException") => {
            Error::Conflict("another user signs in with this e-mail address or phone".into())
        }
        _ => sdk_error(e),
    }
}

pub struct UserPool {
    client: crate::sdk::OnFirstUse<aws_sdk_cognitoidentityprovider::Client>,
    pool_id: String,
}

impl UserPool {
    pub fn new(
        client: impl Into<crate::sdk::OnFirstUse<aws_sdk_cognitoidentityprovider::Client>>,
        pool_id: String,
    ) -> Self {
        UserPool { client: client.into(), pool_id }
    }

    fn configured(&self) -> Result<&str> {
        match self.pool_id.as_str() {
            "" => Err(Error::internal_msg("USER_POOL_ID is not set")),
            id => Ok(id),
        }
    }

    /// Creates the user with Cognito's invitation (a temporary password by e-mail, or by SMS
    /// to a patient with only a phone); a user that exists already (a retry, an edit) gets
    /// the directory's attributes where they differ, and no second invitation. True when it
    /// made the user (a new user is enabled).
    pub async fn ensure_user(&self, account: &Account<'_>) -> Result<bool> {
        let pool = self.configured()?;
        let created = self
            .client
            .get()
            .admin_create_user()
            .user_pool_id(pool)
            .username(account.username)
            .set_user_attributes(Some(account.attributes(true)))
            .desired_delivery_mediums(account.medium())
            .send()
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("UsernameExistsException") => self.update(account).await.map(|()| false),
            Err(e) => Err(cognito_error(e)),
        }
    }

    /// Writes the directory's values (email, phone, practice, role) where the user's differ.
    async fn update(&self, account: &Account<'_>) -> Result<()> {
        let pool = self.configured()?;
        let user = self.client.get().admin_get_user().user_pool_id(pool).username(account.username).send().await;
        let user = user.map_err(sdk_error)?;
        let current: Vec<(&str, &str)> =
            user.user_attributes().iter().map(|a| (a.name(), a.value().unwrap_or_default())).collect();
        let changed: Vec<AttributeType> = account
            .attributes(false)
            .into_iter()
            .filter(|a| !current.contains(&(a.name(), a.value().unwrap_or_default())))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        self.client
            .get()
            .admin_update_user_attributes()
            .user_pool_id(pool)
            .username(account.username)
            .set_user_attributes(Some(changed))
            .send()
            .await
            .map_err(cognito_error)?;
        Ok(())
    }

    /// ACCT-2: a deactivated user can no longer sign in, and its refresh tokens are revoked.
    /// Its ID tokens stay valid until they expire; the directory check refuses them.
    pub async fn disable(&self, username: &str) -> Result<()> {
        let pool = self.configured()?;
        let disabled = self.client.get().admin_disable_user().user_pool_id(pool).username(username).send().await;
        match disabled {
            Ok(_) => {}
            Err(e) if e.code() == Some("UserNotFoundException") => return Ok(()),
            Err(e) => return Err(sdk_error(e)),
        }
        self.sign_out_everywhere(pool, username).await
    }

    /// ACCT-3: whether the user has a verified authenticator app (TOTP) that Cognito asks for
    /// at every sign-in: enabled and preferred.
    pub async fn totp_in_use(&self, username: &str) -> Result<bool> {
        let pool = self.configured()?;
        let user =
            self.client.get().admin_get_user().user_pool_id(pool).username(username).send().await.map_err(sdk_error)?;
        let enabled = user.user_mfa_setting_list().iter().any(|m| m == "SOFTWARE_TOKEN_MFA");
        Ok(enabled && user.preferred_mfa_setting() == Some("SOFTWARE_TOKEN_MFA"))
    }

    /// ACCT-3: forgets the user's authenticator app and signs the user out everywhere (a lost
    /// phone). A user that does not exist in the pool has nothing to forget.
    pub async fn forget_totp(&self, username: &str) -> Result<()> {
        use aws_sdk_cognitoidentityprovider::types::SoftwareTokenMfaSettingsType;
        let pool = self.configured()?;
        let off = SoftwareTokenMfaSettingsType::builder().enabled(false).preferred_mfa(false).build();
        let forgot = self
            .client
            .get()
            .admin_set_user_mfa_preference()
            .user_pool_id(pool)
            .username(username)
            .software_token_mfa_settings(off)
            .send()
            .await;
        match forgot {
            Ok(_) => {}
            Err(e) if e.code() == Some("UserNotFoundException") => return Ok(()),
            Err(e) => return Err(sdk_error(e)),
        }
        self.sign_out_everywhere(pool, username).await
    }

    /// Revokes the user's refresh tokens (its ID tokens run out within the hour, and the
    /// per-request directory check refuses them before that).
    async fn sign_out_everywhere(&self, pool: &str, username: &str) -> Result<()> {
        self.client
            .get()
            .admin_user_global_sign_out()
            .user_pool_id(pool)
            .username(username)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    pub async fn enable(&self, username: &str) -> Result<()> {
        let pool = self.configured()?;
        self.client.get().admin_enable_user().user_pool_id(pool).username(username).send().await.map_err(sdk_error)?;
        Ok(())
    }

    /// Sends the invitation again; a user who never signed in gets a new temporary password.
    /// One who has set a password is refused: that user resets it from the sign-in page.
    pub async fn reinvite(&self, account: &Account<'_>) -> Result<()> {
        let pool = self.configured()?;
        let user = self.client.get().admin_get_user().user_pool_id(pool).username(account.username).send().await;
        match user {
            Err(e) if e.code() == Some("UserNotFoundException") => return self.ensure_user(account).await.map(|_| ()),
            Err(e) => return Err(sdk_error(e)),
            Ok(u) if u.user_status() != Some(&UserStatusType::ForceChangePassword) => {
                return Err(Error::Conflict(
                    "this user has signed in already; a forgotten password is reset from the sign-in page".into(),
                ))
            }
            Ok(_) => {}
        }
        self.client
            .get()
            .admin_create_user()
            .user_pool_id(pool)
            .username(account.username)
            .message_action(MessageActionType::Resend)
            .desired_delivery_mediums(account.medium())
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }
}

//! The shapes stored in the table. PHI fields are ciphertexts (`Sealed`), never text. Key
//! attributes are set by the constructors in `store`, from `keys`.

use serde::{Deserialize, Serialize};

/// An envelope-encrypted value (see `crypto`), stored as a DynamoDB binary attribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(#[serde(with = "serde_bytes")] pub Vec<u8>);

mod audit;
mod conversation;
mod delivery;
mod evisit;
mod people;
mod practice;
mod workspace;

pub use audit::*;
pub use conversation::*;
pub use delivery::*;
pub use evisit::*;
pub use people::*;
pub use practice::*;
pub use workspace::*;

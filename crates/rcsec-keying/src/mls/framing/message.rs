//! The `MLSMessage` envelope (RFC 9420 §6): version, wire format and body.

use super::content::WireFormat;
use super::private::PrivateMessage;
use super::public::PublicMessage;
use crate::mls::codec::{CodecError, Decode, Encode, Reader};
use crate::mls::group_context::PROTOCOL_VERSION;
use crate::mls::key_package::KeyPackage;
use crate::mls::welcome::{GroupInfo, Welcome};

/// An `MLSMessage` of protocol version `mls10`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MlsMessage {
    /// A PublicMessage.
    Public(PublicMessage),
    /// A PrivateMessage.
    Private(PrivateMessage),
    /// A Welcome.
    Welcome(Welcome),
    /// A GroupInfo.
    GroupInfo(GroupInfo),
    /// A KeyPackage.
    KeyPackage(KeyPackage),
}

impl MlsMessage {
    /// The wire format of the body.
    pub fn wire_format(&self) -> WireFormat {
        match self {
            Self::Public(_) => WireFormat::PublicMessage,
            Self::Private(_) => WireFormat::PrivateMessage,
            Self::Welcome(_) => WireFormat::Welcome,
            Self::GroupInfo(_) => WireFormat::GroupInfo,
            Self::KeyPackage(_) => WireFormat::KeyPackage,
        }
    }
}

impl Encode for MlsMessage {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        self.wire_format().encode(out)?;
        match self {
            Self::Public(m) => m.encode(out),
            Self::Private(m) => m.encode(out),
            Self::Welcome(m) => m.encode(out),
            Self::GroupInfo(m) => m.encode(out),
            Self::KeyPackage(m) => m.encode(out),
        }
    }
}

impl Decode for MlsMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, CodecError> {
        let version = r.u16()?;
        if version != PROTOCOL_VERSION {
            return Err(CodecError::UnknownValue {
                field: "protocol_version",
                value: u64::from(version),
            });
        }
        Ok(match WireFormat::decode(r)? {
            WireFormat::PublicMessage => Self::Public(PublicMessage::decode(r)?),
            WireFormat::PrivateMessage => Self::Private(PrivateMessage::decode(r)?),
            WireFormat::Welcome => Self::Welcome(Welcome::decode(r)?),
            WireFormat::GroupInfo => Self::GroupInfo(GroupInfo::decode(r)?),
            WireFormat::KeyPackage => Self::KeyPackage(KeyPackage::decode(r)?),
        })
    }
}

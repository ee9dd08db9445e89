//! `rcsec hpke keygen|seal|open`: RFC 9180 single-shot base mode from the shell.
//!
//! The suite is DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and the AES-GCM variant named by
//! `--aead`, so messages interoperate with any other RFC 9180 implementation of that suite.

use std::io::{Read, Write};

use clap::{Args, Subcommand, ValueEnum};
use rcsec_core::Secret;
use rcsec_keying::hpke::{self, Aead, HpkeError, KEY_LEN, PrivateKey, PublicKey};

use crate::failure::Failure;

/// Arguments of `rcsec hpke`.
#[derive(Debug, Args)]
pub(crate) struct HpkeArgs {
    #[command(subcommand)]
    command: HpkeCommand,
}

#[derive(Debug, Subcommand)]
enum HpkeCommand {
    /// Generate an X25519 key pair from the OS random number generator.
    ///
    /// Prints two lines, `private: HEX` then `public: HEX`, each key 32 bytes written as 64
    /// lowercase hex digits.
    Keygen,
    /// Encrypt stdin to a public key; print hex of `enc || ciphertext` and a newline.
    ///
    /// Exits 2 when --pk, --info or --aad is not hex, or --pk is not a 32-byte key or is a
    /// low-order point.
    Seal(SealArgs),
    /// Decrypt hex of `enc || ciphertext` from stdin; write the plaintext to stdout.
    ///
    /// Exits 1 when the message does not open (wrong key, AEAD, info or aad, or tampered input)
    /// and 2 when an option or stdin is not hex, --sk is not 32 bytes, or stdin is shorter
    /// than an encapsulated key.
    Open(OpenArgs),
}

/// The AEADs that can seal and open.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum AeadArg {
    /// AES-128-GCM (aead_id 0x0001).
    Aes128gcm,
    /// AES-256-GCM (aead_id 0x0002).
    Aes256gcm,
}

impl From<AeadArg> for Aead {
    fn from(arg: AeadArg) -> Self {
        match arg {
            AeadArg::Aes128gcm => Self::Aes128Gcm,
            AeadArg::Aes256gcm => Self::Aes256Gcm,
        }
    }
}

/// Inputs both directions share.
#[derive(Debug, Args)]
struct Common {
    /// The AEAD; sender and recipient must use the same one.
    #[arg(long, value_enum)]
    aead: AeadArg,
    /// Application info bound into the key schedule, as hex.
    #[arg(long, default_value = "")]
    info: String,
    /// Associated data authenticated with the message, as hex.
    #[arg(long, default_value = "")]
    aad: String,
}

#[derive(Debug, Args)]
struct SealArgs {
    #[command(flatten)]
    common: Common,
    /// The recipient's X25519 public key, 64 hex digits.
    #[arg(long)]
    pk: String,
}

#[derive(Debug, Args)]
struct OpenArgs {
    #[command(flatten)]
    common: Common,
    /// The recipient's X25519 private key, 64 hex digits (visible in the process list to other
    /// users of this machine).
    #[arg(long)]
    sk: String,
}

pub(crate) fn run(args: HpkeArgs) -> Result<(), Failure> {
    match args.command {
        HpkeCommand::Keygen => keygen(),
        HpkeCommand::Seal(args) => seal(&args),
        HpkeCommand::Open(args) => open(&args),
    }
}

fn keygen() -> Result<(), Failure> {
    let (sk, pk) = hpke::generate_key_pair().map_err(Failure::check)?;
    let private = Secret::new(hex::encode(sk.to_bytes().expose_secret()));
    let text = Secret::new(format!(
        "private: {}\npublic: {}\n",
        private.expose_secret(),
        hex::encode(pk.as_bytes())
    ));
    write_stdout(text.expose_secret().as_bytes())
}

fn seal(args: &SealArgs) -> Result<(), Failure> {
    let pk = PublicKey::from_bytes(&decode("--pk", &args.pk)?).map_err(key_error("--pk"))?;
    let info = decode("--info", &args.common.info)?;
    let aad = decode("--aad", &args.common.aad)?;
    let mut pt = Secret::new(Vec::new());
    std::io::stdin()
        .read_to_end(pt.expose_secret_mut())
        .map_err(|e| Failure::input(format!("cannot read stdin: {e}")))?;
    let (enc, ct) = hpke::seal_base(
        args.common.aead.into(),
        &pk,
        &info,
        &aad,
        pt.expose_secret(),
    )
    .map_err(|e| match e {
        HpkeError::ZeroSharedSecret => Failure::input("--pk is a low-order point"),
        other => Failure::check(other),
    })?;
    let mut out = hex::encode(enc);
    out.push_str(&hex::encode(ct));
    out.push('\n');
    write_stdout(out.as_bytes())
}

fn open(args: &OpenArgs) -> Result<(), Failure> {
    let sk_bytes = Secret::new(decode("--sk", &args.sk)?);
    let sk = PrivateKey::from_bytes(sk_bytes.expose_secret()).map_err(key_error("--sk"))?;
    let info = decode("--info", &args.common.info)?;
    let aad = decode("--aad", &args.common.aad)?;
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::input(format!("cannot read stdin: {e}")))?;
    let message = decode("stdin", text.trim())?;
    if message.len() < KEY_LEN {
        return Err(Failure::input(format!(
            "stdin is too short: an encapsulated key alone is {KEY_LEN} bytes"
        )));
    }
    let (enc, ct) = message.split_at(KEY_LEN);
    let pt = Secret::new(
        hpke::open_base(args.common.aead.into(), enc, &sk, &info, &aad, ct)
            .map_err(Failure::check)?,
    );
    write_stdout(pt.expose_secret())
}

fn decode(what: &str, text: &str) -> Result<Vec<u8>, Failure> {
    hex::decode(text).map_err(|e| Failure::input(format!("{what} is not hex: {e}")))
}

fn key_error(what: &'static str) -> impl Fn(HpkeError) -> Failure {
    move |e| Failure::input(format!("{what}: {e}"))
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::check(format!("cannot write stdout: {e}")))
}

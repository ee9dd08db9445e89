//! `tree-math`, `deserialization` and `crypto-basics`.

use std::path::Path;

use rcsec_core::vectors::{VectorError, VectorReport};
use serde::Deserialize;

use super::{Check, ctx, expect, run_file, unhex};
use crate::mls::codec::{Reader, WriteExt};
use crate::mls::crypto::{
    self, NH, SignaturePublicKey, SignatureSecretKey, derive_secret, derive_tree_secret,
    expand_with_label_vec, ref_hash,
};
use crate::mls::tree_math::{NodeIndex, TreeSize};

/// One of the tree functions under test.
type NodeFn = fn(TreeSize, NodeIndex) -> Option<NodeIndex>;

#[derive(Deserialize)]
struct TreeMath {
    n_leaves: u32,
    n_nodes: u32,
    root: u32,
    left: Vec<Option<u32>>,
    right: Vec<Option<u32>>,
    parent: Vec<Option<u32>>,
    sibling: Vec<Option<u32>>,
}

/// Checks `tree-math.json`: root, left, right, parent and sibling of every node.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_tree_math(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, false, |v: &TreeMath| -> Check {
        let tree = TreeSize::new(v.n_leaves).ok_or("invalid n_leaves")?;
        if tree.width() != v.n_nodes {
            return Err(format!("n_nodes {} != {}", tree.width(), v.n_nodes));
        }
        if tree.root() != NodeIndex(v.root) {
            return Err("root mismatch".into());
        }
        let tables: [(&str, &Vec<Option<u32>>, NodeFn); 4] = [
            ("left", &v.left, TreeSize::left),
            ("right", &v.right, TreeSize::right),
            ("parent", &v.parent, TreeSize::parent),
            ("sibling", &v.sibling, TreeSize::sibling),
        ];
        for (name, table, f) in tables {
            if table.len() != v.n_nodes as usize {
                return Err(format!("{name} table has {} entries", table.len()));
            }
            for (x, want) in (0..v.n_nodes).zip(table) {
                let got = f(tree, NodeIndex(x)).map(|n| n.0);
                if got != *want {
                    return Err(format!("{name}({x}) = {got:?}, want {want:?}"));
                }
            }
        }
        Ok(())
    })
}

#[derive(Deserialize)]
struct Deserialization {
    vlbytes_header: String,
    length: u64,
}

/// Checks `deserialization.json`: decodes each varint header and re-encodes each length.
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_deserialization(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, false, |v: &Deserialization| -> Check {
        let header = unhex("vlbytes_header", &v.vlbytes_header)?;
        let mut r = Reader::new(&header);
        let got = r.varint().map_err(ctx("decode"))?;
        r.finish().map_err(ctx("decode"))?;
        if got != v.length {
            return Err(format!("decoded {got}, want {}", v.length));
        }
        let mut out = Vec::new();
        out.put_varint(v.length).map_err(ctx("encode"))?;
        expect("encoded header", &out, &v.vlbytes_header)
    })
}

#[derive(Deserialize)]
struct CryptoBasics {
    ref_hash: RefHashV,
    expand_with_label: ExpandV,
    derive_secret: DeriveSecretV,
    derive_tree_secret: DeriveTreeV,
    sign_with_label: SignV,
    encrypt_with_label: EncryptV,
}

#[derive(Deserialize)]
struct RefHashV {
    label: String,
    value: String,
    out: String,
}

#[derive(Deserialize)]
struct ExpandV {
    secret: String,
    label: String,
    context: String,
    length: u16,
    out: String,
}

#[derive(Deserialize)]
struct DeriveSecretV {
    secret: String,
    label: String,
    out: String,
}

#[derive(Deserialize)]
struct DeriveTreeV {
    secret: String,
    label: String,
    generation: u32,
    length: u16,
    out: String,
}

#[derive(Deserialize)]
struct SignV {
    #[serde(rename = "priv")]
    private: String,
    #[serde(rename = "pub")]
    public: String,
    content: String,
    label: String,
    signature: String,
}

#[derive(Deserialize)]
struct EncryptV {
    #[serde(rename = "priv")]
    private: String,
    #[serde(rename = "pub")]
    public: String,
    label: String,
    context: String,
    plaintext: String,
    kem_output: String,
    ciphertext: String,
}

/// Checks `crypto-basics.json`: RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret,
/// SignWithLabel/VerifyWithLabel and EncryptWithLabel/DecryptWithLabel (both directions).
///
/// # Errors
/// [`VectorError`] when the file cannot be read or is not a JSON array.
pub fn run_crypto_basics(path: &Path) -> Result<VectorReport, VectorError> {
    run_file(path, true, |v: &CryptoBasics| -> Check {
        let r = &v.ref_hash;
        let out = ref_hash(r.label.as_bytes(), &unhex("value", &r.value)?).map_err(ctx("ref"))?;
        expect("ref_hash", &out, &r.out)?;

        let e = &v.expand_with_label;
        let secret = unhex("secret", &e.secret)?;
        let out =
            expand_with_label_vec(&secret, &e.label, &unhex("context", &e.context)?, e.length)
                .map_err(ctx("expand_with_label"))?;
        expect("expand_with_label", out.expose_secret(), &e.out)?;

        let d = &v.derive_secret;
        let out = derive_secret(&unhex("secret", &d.secret)?, &d.label).map_err(ctx("derive"))?;
        expect("derive_secret", out.expose_secret(), &d.out)?;

        let t = &v.derive_tree_secret;
        if usize::from(t.length) != NH {
            return Err(format!(
                "derive_tree_secret length {} unsupported",
                t.length
            ));
        }
        let out = derive_tree_secret::<NH>(&unhex("secret", &t.secret)?, &t.label, t.generation)
            .map_err(ctx("derive_tree_secret"))?;
        expect("derive_tree_secret", out.expose_secret(), &t.out)?;

        check_sign(&v.sign_with_label)?;
        check_encrypt(&v.encrypt_with_label)
    })
}

fn check_sign(s: &SignV) -> Check {
    let sk = SignatureSecretKey::from_seed(&unhex("priv", &s.private)?).map_err(ctx("priv"))?;
    let pk = SignaturePublicKey::from_bytes(&unhex("pub", &s.public)?).map_err(ctx("pub"))?;
    if sk.public_key() != pk {
        return Err("pub does not match priv".into());
    }
    let content = unhex("content", &s.content)?;
    let sig = unhex("signature", &s.signature)?;
    pk.verify_with_label(&s.label, &content, &sig)
        .map_err(ctx("verify given"))?;
    let fresh = sk
        .sign_with_label(&s.label, &content)
        .map_err(ctx("sign"))?;
    expect("signature", &fresh, &s.signature)?;
    if pk
        .verify_with_label(&s.label, b"other content", &sig)
        .is_ok()
    {
        return Err("signature verified over the wrong content".into());
    }
    Ok(())
}

fn check_encrypt(e: &EncryptV) -> Check {
    let sk = crypto::HpkeSecretKey::from_bytes(&unhex("priv", &e.private)?).map_err(ctx("priv"))?;
    let pk = crypto::HpkePublicKey::from_bytes(&unhex("pub", &e.public)?).map_err(ctx("pub"))?;
    let context = unhex("context", &e.context)?;
    let given = crypto::HpkeCiphertext {
        kem_output: unhex("kem_output", &e.kem_output)?,
        ciphertext: unhex("ciphertext", &e.ciphertext)?,
    };
    let pt = crypto::decrypt_with_label(&sk, &e.label, &context, &given)
        .map_err(ctx("decrypt given"))?;
    expect("plaintext", pt.expose_secret(), &e.plaintext)?;
    let plaintext = unhex("plaintext", &e.plaintext)?;
    let fresh =
        crypto::encrypt_with_label(&pk, &e.label, &context, &plaintext).map_err(ctx("encrypt"))?;
    let again = crypto::decrypt_with_label(&sk, &e.label, &context, &fresh)
        .map_err(ctx("decrypt fresh"))?;
    expect("fresh plaintext", again.expose_secret(), &e.plaintext)?;
    if crypto::decrypt_with_label(&sk, "other label", &context, &fresh).is_ok() {
        return Err("decrypted under the wrong label".into());
    }
    Ok(())
}

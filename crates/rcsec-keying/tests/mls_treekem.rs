//! TreeKEM refuses paths it cannot trust, with a typed error, and leaves the tree unchanged.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

use rcsec_keying::mls::codec::Decode;
use rcsec_keying::mls::crypto::HpkeSecretKey;
use rcsec_keying::mls::framing::UpdatePath;
use rcsec_keying::mls::group_context::GroupContext;
use rcsec_keying::mls::key_package::LeafNodeSource;
use rcsec_keying::mls::tree::RatchetTree;
use rcsec_keying::mls::tree_math::LeafIndex;
use rcsec_keying::mls::treekem::{PathKeys, TreeKemError, merge_update_path};

struct Case {
    tree: RatchetTree,
    group_id: Vec<u8>,
    sender: LeafIndex,
    path: UpdatePath,
    receiver: LeafIndex,
    receiver_key: HpkeSecretKey,
    context: GroupContext,
}

/// The first official treekem path whose receiver (some other private leaf) gets a secret.
fn case() -> Case {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/mls/treekem.json");
    let v: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let hex = |x: &serde_json::Value| hex::decode(x.as_str().unwrap()).unwrap();
    for e in &v {
        let tree = RatchetTree::from_bytes(&hex(&e["ratchet_tree"])).unwrap();
        let group_id = hex(&e["group_id"]);
        for up in e["update_paths"].as_array().unwrap() {
            let sender = LeafIndex(u32::try_from(up["sender"].as_u64().unwrap()).unwrap());
            for lp in e["leaves_private"].as_array().unwrap() {
                let receiver = LeafIndex(u32::try_from(lp["index"].as_u64().unwrap()).unwrap());
                let has_secret = !up["path_secrets"][receiver.0 as usize].is_null();
                if receiver == sender
                    || !has_secret
                    || !lp["path_secrets"].as_array().unwrap().is_empty()
                {
                    continue;
                }
                let path = UpdatePath::from_bytes(&hex(&up["update_path"])).unwrap();
                let mut merged = tree.clone();
                merge_update_path(&mut merged, sender, &path, &group_id).unwrap();
                let context = GroupContext::new(
                    group_id.clone(),
                    e["epoch"].as_u64().unwrap(),
                    merged.tree_hash().unwrap().to_vec(),
                    hex(&e["confirmed_transcript_hash"]),
                );
                return Case {
                    tree,
                    group_id,
                    sender,
                    path,
                    receiver,
                    receiver_key: HpkeSecretKey::from_bytes(&hex(&lp["encryption_priv"])).unwrap(),
                    context,
                };
            }
        }
    }
    panic!("no usable treekem entry");
}

#[test]
fn the_official_path_decrypts_and_tampering_is_caught() {
    let c = case();
    let mut merged = c.tree.clone();
    merge_update_path(&mut merged, c.sender, &c.path, &c.group_id).unwrap();
    let mut keys = PathKeys::new(c.receiver, c.receiver_key.clone());
    keys.decrypt_update_path(&merged, c.sender, &c.path, &c.context, &[])
        .unwrap();

    // A different context (e.g. another epoch) does not decrypt, opaquely.
    let mut other = c.context.clone();
    other.epoch += 1;
    let mut keys = PathKeys::new(c.receiver, c.receiver_key.clone());
    assert!(matches!(
        keys.decrypt_update_path(&merged, c.sender, &c.path, &other, &[]),
        Err(TreeKemError::Crypto(_))
    ));

    // The committer cannot process its own path; nobody else has no key.
    let mut own = PathKeys::new(c.sender, c.receiver_key.clone());
    assert_eq!(
        own.decrypt_update_path(&merged, c.sender, &c.path, &c.context, &[])
            .unwrap_err(),
        TreeKemError::OwnPath
    );
    let (wrong, _) = rcsec_keying::hpke::generate_key_pair().unwrap();
    let mut nokey = PathKeys::new(c.receiver, wrong);
    assert_eq!(
        nokey
            .decrypt_update_path(&merged, c.sender, &c.path, &c.context, &[])
            .unwrap_err(),
        TreeKemError::NoKey
    );
}

#[test]
fn forged_paths_are_rejected_and_leave_the_tree_unchanged() {
    let c = case();
    if c.path.nodes.is_empty() {
        return;
    }
    // A swapped node key: the leaf's parent hash (and signature) no longer vouch for it.
    let mut forged = c.path.clone();
    forged.nodes[0].encryption_key = c.path.nodes[0]
        .encryption_key
        .iter()
        .rev()
        .copied()
        .collect();
    let mut tree = c.tree.clone();
    let err = merge_update_path(&mut tree, c.sender, &forged, &c.group_id).unwrap_err();
    assert!(
        matches!(err, TreeKemError::ParentHash | TreeKemError::PathShape),
        "{err:?}"
    );
    assert_eq!(tree, c.tree);

    // A node too few.
    let mut short = c.path.clone();
    short.nodes.pop();
    assert_eq!(
        merge_update_path(&mut tree, c.sender, &short, &c.group_id).unwrap_err(),
        TreeKemError::PathShape
    );

    // A changed parent hash breaks the leaf signature first.
    let mut resigned = c.path.clone();
    resigned.leaf_node.source = LeafNodeSource::Commit {
        parent_hash: vec![0; 32],
    };
    assert!(matches!(
        merge_update_path(&mut tree, c.sender, &resigned, &c.group_id).unwrap_err(),
        TreeKemError::Leaf(_)
    ));

    // Another group's id: the leaf signature is bound to the group.
    let mut other_group = c.group_id.clone();
    other_group.push(1);
    assert!(matches!(
        merge_update_path(&mut tree, c.sender, &c.path, &other_group).unwrap_err(),
        TreeKemError::Leaf(_)
    ));
    // A committer outside the tree.
    assert_eq!(
        merge_update_path(&mut tree, LeafIndex(1 << 20), &c.path, &c.group_id).unwrap_err(),
        TreeKemError::UnknownSender
    );
    assert_eq!(tree, c.tree);
}

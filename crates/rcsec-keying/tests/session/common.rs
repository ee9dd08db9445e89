//! Shared fixtures: a clock value and a team of devices in one group.

use std::time::Duration;

use rcsec_core::Timestamp;
use rcsec_keying::device::{Device, ValidatedKeyPackage};
use rcsec_keying::group::{Group, GroupConfig};

pub(crate) const NOW: Timestamp = Timestamp::from_secs(1_800_000_000);

/// `n` members: leaf 0 created the group and added the others in one commit.
pub(crate) fn team(n: usize, config: GroupConfig) -> Vec<Group> {
    let creator = Device::generate("orchestrator").unwrap();
    let mut first = Group::create(b"oncall-payments".to_vec(), &creator, config).unwrap();
    let devices: Vec<_> = (1..n)
        .map(|i| Device::generate(format!("device-{i}")).unwrap())
        .collect();
    let bundles: Vec<_> = devices
        .iter()
        .map(|d| d.key_package(NOW, Duration::from_secs(3600)).unwrap())
        .collect();
    let mut groups = vec![];
    if n > 1 {
        let validated: Vec<_> = bundles
            .iter()
            .map(|b| ValidatedKeyPackage::validate(&b.key_package, NOW).unwrap())
            .collect();
        let welcome = first.add(&validated).unwrap().welcome.unwrap();
        for (device, bundle) in devices.iter().zip(bundles) {
            groups.push(Group::join(&welcome, bundle, device, config).unwrap());
        }
    }
    groups.insert(0, first);
    groups
}

/// Delivers `commit` to every group except `skip`.
pub(crate) fn deliver(groups: &mut [Group], skip: usize, commit: &[u8]) {
    for (i, g) in groups.iter_mut().enumerate() {
        if i != skip {
            g.process_commit(commit).unwrap();
        }
    }
}

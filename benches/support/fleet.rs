//! The OpenStack fleet the 10,000-host benchmarks plan for: three controllers at pike and
//! `hosts - 3` computes with their agents.

use ffu_core::{Catalog, Inventory};

/// The inventory of `hosts` hosts (at least four) over the embedded catalog.
pub(crate) fn inventory(catalog: &Catalog, hosts: usize) -> Inventory {
    let computes = format!("cmp-[00001:{:05}]", hosts - 3);
    let controls: &[(&str, &str)] = &[
        ("keystone-api", "pike"),
        ("glance-api", "pike"),
        ("cinder-api", "pike"),
        ("nova-api", "pike"),
        ("nova-conductor", "pike"),
        ("nova-scheduler", "pike"),
        ("neutron-server", "pike"),
    ];
    let agents: &[(&str, &str)] = &[
        ("nova-compute", "pike"),
        ("neutron-openvswitch-agent", "pike"),
        ("libvirt-guests", "pike"),
        ("ovs-vswitchd", "pike"),
    ];
    Inventory::from_hosts(catalog, &[("ctl-[1:3]", controls), (&computes, agents)])
        .expect("valid inventory")
}

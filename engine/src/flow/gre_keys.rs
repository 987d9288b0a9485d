//! GRE keys in flow keys, for tunnels whose two ends key their directions
//! differently.
//!
//! A GRE key is part of the tunnel context, so two tenants' identical inner
//! 5-tuples in differently keyed GRE tunnels (NVGRE virtual subnets, say)
//! are two flows. Many tunnels key both directions alike, and then both
//! directions find the flow by its key. But RFC 2890 lets each end choose
//! the key it expects (Linux `ip tunnel ... ikey K1 okey K2`), and then a
//! flow's two directions carry different keys.
//!
//! [`GreKeyPairing`] joins those directions: a flow created by a GRE packet
//! is remembered as unanswered, by its key with the GRE key cleared, until
//! a packet of the other direction reaches it. A packet of the other
//! direction whose own key finds no flow joins the oldest unanswered flow,
//! and its key becomes an alias of that flow's key. A packet in a flow's
//! own direction never joins it, so a second tenant's packet starts its own
//! flow.
//!
//! NOTE: when several tenants' flows with the same inner 5-tuple wait for an
//! answer at once, an answer under a key of its own joins the oldest of
//! them, which is a guess when the tenants key their directions
//! differently.

use std::collections::HashMap;

/// Unanswered flows remembered per inner 5-tuple; more start unpaired.
const MAX_UNANSWERED_PER_TUPLE: usize = 8;

use crate::decode::TunnelKind;

use super::key::{FlowKey, KeyDirection, TunnelContext};

/// The pairing state of one flow shard.
#[derive(Debug, Default)]
pub struct GreKeyPairing {
    /// Flows created by a GRE packet and not yet seen in the other
    /// direction, oldest first: by their key with the GRE key cleared,
    /// their key and the direction they were seen in.
    unanswered: HashMap<FlowKey, Vec<(FlowKey, KeyDirection)>>,
    /// Keys of a second direction, with the key of the flow they joined.
    aliases: HashMap<FlowKey, FlowKey>,
    /// The alias of each joined flow's key, to forget it with the flow.
    alias_of: HashMap<FlowKey, FlowKey>,
}

/// Returns true when `kind` is plain GRE, whose key the context keeps.
fn is_gre(kind: Option<TunnelKind>) -> bool {
    matches!(kind, Some(TunnelKind::Gre | TunnelKind::GreInUdp))
}

/// Returns the GRE tunnel context of a key, or `None` for other keys.
fn gre_context(key: &FlowKey) -> Option<TunnelContext> {
    match key {
        FlowKey::Ip { tunnel, .. } | FlowKey::Icmp { tunnel, .. } if is_gre(tunnel.kind) => Some(*tunnel),
        _ => None,
    }
}

/// Returns `key` with its GRE key cleared.
fn without_gre_key(key: FlowKey, tunnel: TunnelContext) -> FlowKey {
    key.with_tunnel(TunnelContext { id: 0, ..tunnel })
}

impl GreKeyPairing {
    /// Returns true for the keys the pairing handles, those of plain GRE
    /// tunnels; [`GreKeyPairing::resolve`] returns every other key as it is.
    pub fn handles(key: &FlowKey) -> bool {
        gre_context(key).is_some()
    }

    /// Returns the canonical key under which the flow of a packet is held:
    /// `canonical` itself, or the key of the flow the packet's direction
    /// joined. `direction` is the packet's direction relative to
    /// `canonical`, and `is_held` returns whether the shard holds a flow.
    pub fn resolve(
        &mut self,
        canonical: FlowKey,
        direction: KeyDirection,
        is_held: impl Fn(&FlowKey) -> bool,
    ) -> FlowKey {
        let Some(tunnel) = gre_context(&canonical) else {
            return canonical;
        };
        let keyless = without_gre_key(canonical, tunnel);

        if is_held(&canonical) {
            // Both directions carry the same key: the flow is answered.
            self.remove_unanswered(keyless, |&(first, first_direction)| {
                first == canonical && first_direction != direction
            });
            return canonical;
        }

        if let Some(&joined) = self.aliases.get(&canonical) {
            if is_held(&joined) {
                return joined;
            }
            self.aliases.remove(&canonical);
            self.alias_of.remove(&joined);
        }

        self.remove_unanswered(keyless, |(first, _)| !is_held(first));
        let waiting = self.unanswered.entry(keyless).or_default();
        let answered = waiting.iter().position(|&(_, first_direction)| first_direction != direction);
        if let Some(position) = answered {
            let (first, _) = waiting.remove(position);
            if waiting.is_empty() {
                self.unanswered.remove(&keyless);
            }
            self.aliases.insert(canonical, first);
            self.alias_of.insert(first, canonical);
            return first;
        }
        if waiting.len() < MAX_UNANSWERED_PER_TUPLE {
            waiting.push((canonical, direction));
        }
        canonical
    }

    /// Removes the unanswered flows under `keyless` that `matches` picks.
    fn remove_unanswered(&mut self, keyless: FlowKey, matches: impl Fn(&(FlowKey, KeyDirection)) -> bool) {
        if let Some(waiting) = self.unanswered.get_mut(&keyless) {
            waiting.retain(|entry| !matches(entry));
            if waiting.is_empty() {
                self.unanswered.remove(&keyless);
            }
        }
    }

    /// Forgets a flow that the shard no longer holds.
    pub fn forget(&mut self, key: &FlowKey) {
        let Some(tunnel) = gre_context(key) else {
            return;
        };
        let keyless = without_gre_key(*key, tunnel);
        self.remove_unanswered(keyless, |(first, _)| first == key);
        if let Some(alias) = self.alias_of.remove(key) {
            self.aliases.remove(&alias);
        }
    }

    /// Number of remembered keys.
    pub fn len(&self) -> usize {
        self.unanswered.values().map(Vec::len).sum::<usize>() + self.aliases.len() + self.alias_of.len()
    }

    /// Returns true when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn key(gre_key: u32) -> FlowKey {
        FlowKey::Ip {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            protocol: 17,
            src_port: 1000,
            dst_port: 2000,
            tunnel: TunnelContext { kind: Some(TunnelKind::Gre), id: gre_key },
        }
    }

    #[test]
    fn different_keys_per_direction_pair() {
        let mut pairing = GreKeyPairing::default();
        let mut held = HashSet::new();
        let first = pairing.resolve(key(0), KeyDirection::Forward, |k| held.contains(k));
        assert_eq!(first, key(0));
        held.insert(first);
        let answer = pairing.resolve(key(0x0200_0000), KeyDirection::Reverse, |k| held.contains(k));
        assert_eq!(answer, key(0));
        let again = pairing.resolve(key(0x0200_0000), KeyDirection::Reverse, |k| held.contains(k));
        assert_eq!(again, key(0));
        pairing.forget(&key(0));
        assert!(pairing.is_empty());
    }

    #[test]
    fn same_direction_with_another_key_is_another_flow() {
        let mut pairing = GreKeyPairing::default();
        let mut held = HashSet::new();
        held.insert(pairing.resolve(key(100), KeyDirection::Forward, |k| held.contains(k)));
        let tenant_b = pairing.resolve(key(200), KeyDirection::Forward, |k| held.contains(k));
        assert_eq!(tenant_b, key(200));
        held.insert(tenant_b);
        // Symmetric keys: each answer finds its own flow.
        assert_eq!(pairing.resolve(key(200), KeyDirection::Reverse, |k| held.contains(k)), key(200));
        assert_eq!(pairing.resolve(key(100), KeyDirection::Reverse, |k| held.contains(k)), key(100));
        assert_eq!(pairing.unanswered.len(), 0, "both flows are answered");
    }

    #[test]
    fn other_tunnels_pass_through() {
        let mut pairing = GreKeyPairing::default();
        let vxlan = key(7).with_tunnel(TunnelContext { kind: Some(TunnelKind::Vxlan), id: 7 });
        assert_eq!(pairing.resolve(vxlan, KeyDirection::Forward, |_| false), vxlan);
        assert!(pairing.is_empty());
    }
}

//! Who is on the other end of a request, and which budget its address
//! spends.

use std::net::{IpAddr, Ipv6Addr};

/// Who is on the other end of a request.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    /// The client's address, as the audit log stores it.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The client's network as the per-client limits count it (see
    /// [`network_of`]).
    pub fn network(&self) -> Option<String> {
        let ip: IpAddr = self.ip.as_deref()?.parse().ok()?;
        Some(network_of(ip).to_string())
    }
}

/// The address a per-client limit counts: an IPv4 address as it is, and an
/// IPv6 address by its /64, the smallest network an ISP hands one customer
/// (one /64 holds 2^64 addresses: counted one by one, each would be a fresh
/// budget). An IPv4 address mapped into IPv6 counts as itself.
pub fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> String {
        network_of(s.parse().unwrap()).to_string()
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_ipv4_by_their_address() {
        assert_eq!(net("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::");
        assert_eq!(net("2001:db8:1:2:ffff::1"), "2001:db8:1:2::");
        assert_ne!(net("2001:db8:1:3::1"), net("2001:db8:1:2::1"));
        assert_eq!(net("203.0.113.9"), "203.0.113.9");
        assert_eq!(net("::ffff:203.0.113.9"), "203.0.113.9");
    }
}

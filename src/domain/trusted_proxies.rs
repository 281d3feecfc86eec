//! The reverse proxies whose forwarding headers (`X-Forwarded-For`,
//! `Forwarded`, …) are believed. Anyone else can write those headers, so
//! from anyone else they are ignored.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP address, or a CIDR block such as `10.0.0.0/8` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or a CIDR block (such as 127.0.0.1, 10.0.0.0/8 or fd00::/8)")]
pub struct IpBlockError(String);

impl IpBlock {
    pub fn parse(text: &str) -> Result<Self, IpBlockError> {
        let invalid = || IpBlockError(text.to_owned());
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| invalid())?;
        // Canonical, so `::ffff:10.0.0.1` and `10.0.0.1` are one address.
        let network = network.to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            // Digits only: `u8::from_str` would also take `+8`.
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(|_| invalid())?
            }
            Some(_) => return Err(invalid()),
            None => bits,
        };
        if prefix > bits {
            return Err(invalid());
        }
        Ok(Self {
            network: mask(network, prefix),
            prefix,
        })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        address.is_ipv4() == self.network.is_ipv4() && mask(address, self.prefix) == self.network
    }
}

/// `address` with all but its first `prefix` bits cleared.
fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    let keep = |bits: u32| u32::from(prefix).min(bits);
    match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - keep(32)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - keep(128)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

impl fmt::Display for IpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// `PGUSERS_TRUSTED_PROXIES`: comma-separated addresses and blocks. Empty
/// (the default) trusts no one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpBlock>);

impl TrustedProxies {
    pub fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(address))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = IpBlockError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(IpBlock::parse)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_blocks_of_both_families_are_read() {
        let proxies: TrustedProxies = " 127.0.0.1, 10.0.0.0/8 ,fd00::/8,::1".parse().unwrap();

        assert!(proxies.trusts(ip("127.0.0.1")));
        assert!(!proxies.trusts(ip("127.0.0.2")));
        assert!(proxies.trusts(ip("10.255.1.2")));
        assert!(!proxies.trusts(ip("11.0.0.1")));
        assert!(proxies.trusts(ip("fd12::1")));
        assert!(!proxies.trusts(ip("fe80::1")));
        assert!(proxies.trusts(ip("::1")));
    }

    #[test]
    fn an_ipv4_peer_seen_through_an_ipv6_socket_is_the_same_address() {
        let proxies: TrustedProxies = "192.168.0.0/16".parse().unwrap();
        assert!(proxies.trusts(ip("::ffff:192.168.3.4")));
    }

    #[test]
    fn host_bits_of_a_block_are_ignored_and_zero_bits_trust_everyone_of_a_family() {
        let block = IpBlock::parse("10.1.2.3/8").unwrap();
        assert_eq!(block.to_string(), "10.0.0.0/8");
        let all = IpBlock::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        assert!(!all.contains(ip("2001:db8::1")));
    }

    #[test]
    fn nothing_is_trusted_by_default_or_when_empty() {
        assert!(TrustedProxies::default().is_empty());
        let empty: TrustedProxies = " , ".parse().unwrap();
        assert!(empty.is_empty());
        assert!(!empty.trusts(ip("127.0.0.1")));
    }

    #[test]
    fn anything_but_an_address_or_a_block_is_refused() {
        for bad in [
            "localhost",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "1.2.3",
            "*",
        ] {
            assert!(bad.parse::<TrustedProxies>().is_err(), "{bad}");
        }
    }
}

//! Port and protocol names the filter accepts in place of numbers.
//!
//! ra resolves names through `/etc/services` and `/etc/protocols`. The
//! sensor uses these built-in IANA assignments instead, so its filters do not
//! depend on the host's files.
//!
//! NOTE: ra matches a named port only for the protocols that
//! `/etc/services` lists for the name. This table matches the port for TCP
//! and UDP alike.

/// Well-known service names and their IANA port numbers.
const SERVICE_PORTS: &[(&str, u16)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("http", 80),
    ("kerberos", 88),
    ("pop3", 110),
    ("sunrpc", 111),
    ("ntp", 123),
    ("netbios-ns", 137),
    ("netbios-dgm", 138),
    ("netbios-ssn", 139),
    ("imap", 143),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("bgp", 179),
    ("ldap", 389),
    ("https", 443),
    ("microsoft-ds", 445),
    ("syslog", 514),
    ("submission", 587),
    ("ldaps", 636),
    ("imaps", 993),
    ("pop3s", 995),
    ("openvpn", 1194),
    ("mysql", 3306),
    ("mdns", 5353),
    ("postgresql", 5432),
    ("http-alt", 8080),
];

/// IP protocol names and their IANA numbers.
const IP_PROTOCOLS: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("ipencap", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("ipv6", 41),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("eigrp", 88),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
    ("udplite", 136),
];

/// Returns the port number of a service name.
pub fn service_port(name: &str) -> Option<u16> {
    SERVICE_PORTS.iter().find(|(service, _)| *service == name).map(|(_, port)| *port)
}

/// Returns the IP protocol number of a protocol name.
pub fn ip_protocol_number(name: &str) -> Option<u8> {
    IP_PROTOCOLS.iter().find(|(protocol, _)| *protocol == name).map(|(_, number)| *number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_resolve() {
        assert_eq!(service_port("domain"), Some(53));
        assert_eq!(service_port("http"), Some(80));
        assert_eq!(ip_protocol_number("sctp"), Some(132));
        assert_eq!(ip_protocol_number("ipv6-icmp"), Some(58));
    }

    #[test]
    fn unknown_names_do_not_resolve() {
        assert_eq!(service_port("no-such-service"), None);
        assert_eq!(ip_protocol_number("no-such-protocol"), None);
    }
}

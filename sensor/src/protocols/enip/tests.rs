//! Unit tests of the EtherNet/IP and CIP decoder.

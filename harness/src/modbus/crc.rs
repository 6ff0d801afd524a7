//! The RTU frame check (Modbus over serial line V1.02 §6.2.2), from the `crc`
//! crate's CRC-16/MODBUS; low byte first on the wire.

use ::crc::{CRC_16_MODBUS, Crc};

const MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);

pub fn crc16(bytes: &[u8]) -> u16 {
    MODBUS.checksum(bytes)
}

pub fn append_crc(frame: &mut Vec<u8>) {
    let c = crc16(frame);
    frame.extend_from_slice(&c.to_le_bytes());
}

/// True when the last two bytes are the CRC of the rest.
pub fn crc_ok(frame: &[u8]) -> bool {
    if frame.len() < 4 {
        return false;
    }
    let (body, tail) = frame.split_at(frame.len() - 2);
    crc16(body).to_le_bytes() == [tail[0], tail[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_frame() {
        // Read 2 holding registers at 0x1000 from unit 5: a well-known layout.
        let mut f = vec![0x05, 0x03, 0x10, 0x00, 0x00, 0x02];
        append_crc(&mut f);
        assert!(crc_ok(&f));
        // Spec example (V1.02 §6.2.2 style): 01 03 00 00 00 01 -> CRC 84 0A.
        let mut g = vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x01];
        append_crc(&mut g);
        assert_eq!(&g[6..], &[0x84, 0x0A]);
        g[2] ^= 1;
        assert!(!crc_ok(&g));
    }
}

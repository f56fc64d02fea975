"""Zeroes, in place, the CUDA kernels of an ELF library's fat binaries that are not for one GPU architecture (e.g. 90 for
Hopper), keeping every header, size and offset: the driver still finds that architecture's kernels, and the file compresses
to a fraction. Usage: python3 keep_gpu_arch.py LIBRARY.so SM"""
import os
import struct
import sys

FATBIN_MAGIC = 0xBA55ED50


def main(path: str, keep: int) -> None:
    with open(path, "rb") as f:
        data = bytearray(f.read())
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = sections[shstrndx][4]
    kept = zeroed = 0
    for name, _, _, _, offset, size in sections:
        if data[names + name:data.index(b"\0", names + name)] != b".nv_fatbin":
            continue
        p, end = offset, offset + size
        while p < end:
            magic, _, header_size, fat_size = struct.unpack_from("<IHHQ", data, p)
            if magic != FATBIN_MAGIC:
                p += 8
                continue
            q, blob_end = p + header_size, p + header_size + fat_size
            while q < blob_end:
                _, _, entry_header, payload = struct.unpack_from("<HHIQ", data, q)
                arch = struct.unpack_from("<I", data, q + 28)[0]
                if arch == keep:
                    kept += payload
                else:
                    data[q + entry_header:q + entry_header + payload] = bytes(payload)
                    zeroed += payload
                q += entry_header + payload
            p = blob_end
    if kept == 0:
        sys.exit(f"{path} has no kernels for sm_{keep}; nothing changed")
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    print(f"{path}: kept {kept / 1e6:.0f} MB of sm_{keep} kernels, zeroed {zeroed / 1e6:.0f} MB of others")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

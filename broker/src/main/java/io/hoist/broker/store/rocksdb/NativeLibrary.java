package io.hoist.broker.store.rocksdb;

import com.sun.security.auth.module.UnixSystem;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Loads RocksDB's native library from a directory of this user's own, where each build of the
 * library is unpacked once. RocksJava's own loader unpacks it (~17 MB) into a new temp file at
 * every start and deletes that only on a normal exit, so each broker killed with -9 or by
 * {@code ExitOnOutOfMemoryError} left one behind — and a container's {@code /tmp} volume outlives
 * container restarts (Kubernetes evicts the pod when its emptyDir fills).
 *
 * <p>Layout: {@code <tmp>/hoist-<uid>/rocksdbjni-<sha-256 prefix>/<library>}. The directory must be
 * the user's own and closed to others (0700, no symbolic link), since a library in a shared temp
 * dir at a predictable path could otherwise be someone else's; the file is written beside its name
 * and moved there in one step, so brokers starting together never load half a file. A library
 * of another size than the jar's is unpacked again; one of the right size is trusted without
 * reading it, since only this user can have written it (and each start already reads the jar's
 * copy once, to name the directory).
 */
final class NativeLibrary {
    private static final Logger log = LoggerFactory.getLogger(NativeLibrary.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private NativeLibrary() {
    }

    /** Loads the library once per JVM; falls back to RocksJava's own loader if the private copy fails. */
    static void load() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try {
            Path dir = unpack(tmp);
            RocksDB.loadLibrary(List.of(dir.toString()));
        } catch (IOException | RuntimeException | LinkageError e) { // also a runtime without jdk.security.auth
            log.warn("cannot load RocksDB's native library from a private copy under {} ({}); "
                    + "unpacking it into the temp dir for this run instead", tmp, e.toString());
            RocksDB.loadLibrary();
        }
    }

    /**
     * Makes sure this jar's library is in its directory under {@code tmp}, and answers that directory.
     *
     * @throws IOException if it cannot be written, or the user's directory is not private
     */
    static Path unpack(Path tmp) throws IOException {
        String resource = Environment.getJniLibraryFileName("rocksdb");
        Fingerprint print = fingerprint(resource);
        long uid = new UnixSystem().getUid();
        Path userDir = privateDir(tmp.resolve("hoist-" + uid), uid);
        Path dir = privateDir(userDir.resolve("rocksdbjni-" + HexFormat.of().formatHex(print.sha256(), 0, 8)), uid);
        // the name RocksDB.loadLibrary(paths) looks for in each directory
        Path library = dir.resolve(Environment.getJniLibraryFileName("rocksdbjni"));
        if (Files.isRegularFile(library, LinkOption.NOFOLLOW_LINKS) && Files.size(library) == print.size()) {
            return dir;
        }
        Path part = Files.createTempFile(dir, "unpacking-", ".part");
        try {
            try (InputStream in = open(resource)) {
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(part, library, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(part);
        }
        log.info("unpacked RocksDB's native library into {}", dir);
        return dir;
    }

    /** Creates {@code dir} (0700) if absent; refuses one that is a link, another user's, or open to others. */
    private static Path privateDir(Path dir, long uid) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException e) {
            // checked below, whoever made it
        }
        PosixFileAttributes attrs = Files.getFileAttributeView(dir, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .readAttributes();
        if (!attrs.isDirectory() || ((Number) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue() != uid
                || !OWNER_ONLY.containsAll(attrs.permissions())) {
            throw new IOException(dir + " must be a directory of this user's own (uid " + uid + ") with no access for others; it is "
                    + (attrs.isDirectory() ? attrs.owner().getName() + "'s, " + PosixFilePermissions.toString(attrs.permissions())
                    : "not a directory") + " (remove it, or point java.io.tmpdir elsewhere)");
        }
        return dir;
    }

    private static InputStream open(String resource) throws IOException {
        InputStream in = RocksDB.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("the rocksdbjni jar holds no " + resource + " for this platform");
        }
        return in;
    }

    private record Fingerprint(byte[] sha256, long size) {
    }

    private static Fingerprint fingerprint(String resource) throws IOException {
        try (DigestInputStream in = new DigestInputStream(open(resource), MessageDigest.getInstance("SHA-256"))) {
            long size = in.transferTo(OutputStream.nullOutputStream());
            return new Fingerprint(in.getMessageDigest().digest(), size);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}

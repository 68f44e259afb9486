package io.hoist.broker.store.rocksdb;

import com.sun.security.auth.module.UnixSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.util.Environment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Unpacking RocksDB's native library into a private directory, once per build of the library. */
class NativeLibraryTest {
    private static final String LIBRARY = Environment.getJniLibraryFileName("rocksdbjni");

    @TempDir
    Path tmp;

    private Path userDir() {
        return tmp.resolve("hoist-" + new UnixSystem().getUid());
    }

    @Test
    void unpack_writesTheLibraryOnceIntoDirectoriesClosedToOthers() throws IOException {
        Path dir = NativeLibrary.unpack(tmp);

        assertThat(dir.getParent()).isEqualTo(userDir());
        assertThat(dir.getFileName().toString()).matches("rocksdbjni-[0-9a-f]{16}");
        assertThat(Files.size(dir.resolve(LIBRARY))).isGreaterThan(1 << 20);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(userDir()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(filesUnder(tmp)).containsExactly(dir.resolve(LIBRARY));

        FileTime old = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
        Files.setLastModifiedTime(dir.resolve(LIBRARY), old);
        assertThat(NativeLibrary.unpack(tmp)).isEqualTo(dir);
        assertThat(Files.getLastModifiedTime(dir.resolve(LIBRARY))).as("the same library is not written again").isEqualTo(old);
        assertThat(filesUnder(tmp)).containsExactly(dir.resolve(LIBRARY));
    }

    @Test
    void unpack_replacesALibraryOfAnotherSize() throws IOException {
        Path dir = NativeLibrary.unpack(tmp);
        long size = Files.size(dir.resolve(LIBRARY));
        Files.write(dir.resolve(LIBRARY), new byte[] {1, 2, 3});

        assertThat(NativeLibrary.unpack(tmp)).isEqualTo(dir);

        assertThat(Files.size(dir.resolve(LIBRARY))).isEqualTo(size);
        assertThat(filesUnder(tmp)).containsExactly(dir.resolve(LIBRARY));
    }

    @Test
    void unpack_refusesAUserDirectoryThatOthersCanWrite() throws IOException {
        Files.createDirectory(userDir(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
        Files.setPosixFilePermissions(userDir(), PosixFilePermissions.fromString("rwxrwxrwx")); // past the umask

        assertThatThrownBy(() -> NativeLibrary.unpack(tmp))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(userDir().toString())
                .hasMessageContaining("rwxrwxrwx");
        assertThat(filesUnder(tmp)).isEmpty();
    }

    @Test
    void unpack_refusesAUserDirectoryThatIsALink() throws IOException {
        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createSymbolicLink(userDir(), elsewhere);

        assertThatThrownBy(() -> NativeLibrary.unpack(tmp))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("not a directory");
        assertThat(filesUnder(elsewhere)).isEmpty();
    }

    private static java.util.List<Path> filesUnder(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }
}

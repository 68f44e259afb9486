package io.hoist.sdk;

import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConnectionSecurityTest {
    @TempDir
    Path dir;

    @Test
    void plaintextByDefault_tlsOnceAskedFor() {
        assertThat(ConnectionSecurity.PLAINTEXT.channelCredentials()).isInstanceOf(InsecureChannelCredentials.class);
        assertThat(ConnectionSecurity.PLAINTEXT.callCredentials()).isEmpty();
        assertThat(ConnectionSecurity.PLAINTEXT.withTls().channelCredentials()).isInstanceOf(TlsChannelCredentials.class);
        assertThat(ConnectionSecurity.PLAINTEXT.withToken("hoist_x").callCredentials()).isPresent();
    }

    @Test
    void tokensAreHeaderSafe_andNeverPrinted() {
        assertThatThrownBy(() -> ConnectionSecurity.PLAINTEXT.withToken("two words")).hasMessageContaining("without spaces");
        assertThatThrownBy(() -> ConnectionSecurity.PLAINTEXT.withToken("")).isInstanceOf(IllegalArgumentException.class);
        WorkerOptions o = WorkerOptions.builder().queues("q").token("hoist_s3cret").build();
        assertThat(o.toString()).contains("token=set").doesNotContain("s3cret");
        assertThat(o.toBuilder().build().security().hasToken()).isTrue();
    }

    @Test
    void missingOrBadFiles_areNamedAtBuild() throws Exception {
        Path missing = dir.resolve("ca.pem");
        assertThatThrownBy(() -> HoistClient.builder().tlsTrust(missing))
                .hasMessageContaining(missing.toString()).hasMessageContaining("does not exist");
        Path junk = Files.writeString(dir.resolve("junk.pem"), "not a certificate");
        assertThatThrownBy(() -> HoistClient.builder().tlsTrust(junk))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("junk.pem");
        Path rsa = Files.writeString(dir.resolve("key.pem"), "-----BEGIN RSA PRIVATE KEY-----\nAA==\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> ConnectionSecurity.PLAINTEXT.withClientCertificate(junk, rsa))
                .hasMessageContaining("junk.pem");
    }
}

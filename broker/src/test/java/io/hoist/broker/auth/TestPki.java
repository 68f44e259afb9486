package io.hoist.broker.auth;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A throwaway certificate authority for tests: a CA, a server certificate for localhost and
 * 127.0.0.1, and client certificates, all as PEM files (keys PKCS#8), as an operator would have.
 * EC P-256 keys, so that making them takes milliseconds. Public for system-tests, which get it
 * through this module's test-jar.
 */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    public final Path dir;
    public final Path caCert;
    public final Path serverCert;
    public final Path serverKey;
    private final KeyPair caKeys;
    private final X500Name caName;

    private TestPki(Path dir, Path caCert, Path serverCert, Path serverKey, KeyPair caKeys, X500Name caName) {
        this.dir = dir;
        this.caCert = caCert;
        this.serverCert = serverCert;
        this.serverKey = serverKey;
        this.caKeys = caKeys;
        this.caName = caName;
    }

    public static TestPki create(Path dir) throws Exception {
        KeyPair caKeys = keys();
        X500Name caName = new X500Name("CN=hoist test CA");
        X509CertificateHolder ca = sign(caName, caName, caKeys.getPublic(), caKeys.getPrivate(), true, null);
        Path caCert = write(dir.resolve("ca.pem"), pem(ca));
        TestPki pki = new TestPki(dir, caCert, null, null, caKeys, caName);
        Path[] server = pki.issue("server", true);
        return new TestPki(dir, caCert, server[0], server[1], caKeys, caName);
    }

    /** A certificate (and key) signed by this CA: {cert.pem, key.pem}. */
    public Path[] issue(String name, boolean forServer) throws Exception {
        KeyPair keys = keys();
        GeneralNames sans = forServer ? new GeneralNames(new GeneralName[]{
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}) : null;
        X509CertificateHolder cert = sign(caName, new X500Name("CN=" + name), keys.getPublic(), caKeys.getPrivate(), false, sans);
        return new Path[]{write(dir.resolve(name + ".pem"), pem(cert)), write(dir.resolve(name + "-key.pem"), pkcs8(keys.getPrivate()))};
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509CertificateHolder sign(X500Name issuer, X500Name subject, PublicKey key, PrivateKey signer,
                                              boolean ca, GeneralNames sans) throws Exception {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (sans != null) {
            b.addExtension(Extension.subjectAlternativeName, false, sans);
        }
        ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer);
        return b.build(s);
    }

    private static String pem(Object o) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    /** "BEGIN PRIVATE KEY" (PKCS#8), the form the broker documents. */
    private static String pkcs8(PrivateKey key) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    private static Path write(Path p, String text) throws IOException {
        Files.writeString(p, text);
        return p;
    }
}

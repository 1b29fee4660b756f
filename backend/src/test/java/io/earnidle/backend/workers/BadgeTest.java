package io.earnidle.backend.workers;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import javax.xml.parsers.DocumentBuilderFactory;

import io.earnidle.backend.reputation.Tier;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The badge's SVG: markup in every field that reaches it (label, message, colour, title) stays text. */
class BadgeTest {
    private static final String MARKUP = "</text><script>alert('x')</script><a href=\"javascript:1\">&amp;";

    private static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void markupInEveryFieldStaysText() throws Exception {
        String svg = Badge.svg("L" + MARKUP, "M" + MARKUP, "#fff\" onload=\"alert(1)", "T" + MARKUP);
        Document doc = parse(svg);
        assertEquals(0, doc.getElementsByTagName("script").getLength(), svg);
        assertEquals(0, doc.getElementsByTagName("a").getLength(), svg);
        assertFalse(svg.contains("onload"), "a colour that is not #rrggbb is not used: " + svg);
        assertEquals("T" + MARKUP, doc.getElementsByTagName("title").item(0).getTextContent());
        assertEquals("T" + MARKUP, doc.getDocumentElement().getAttribute("aria-label"));
        NodeList texts = doc.getElementsByTagName("text");
        assertEquals(4, texts.getLength());
        assertEquals("L" + MARKUP, texts.item(0).getTextContent());
        assertEquals("L" + MARKUP, texts.item(1).getTextContent());
        assertEquals("M" + MARKUP, texts.item(2).getTextContent());
        assertEquals("M" + MARKUP, texts.item(3).getTextContent());
        for (int i = 0; i < texts.getLength(); i++) {
            assertEquals(0, ((Element) texts.item(i)).getElementsByTagName("*").getLength());
        }
    }

    @Test
    void controlCharactersDoNotBreakTheDocument() throws Exception {
        Document doc = parse(Badge.svg("a\u0000b", "c\u0007d", "#123456", "e\u001bf"));
        assertEquals("a\uFFFDb", doc.getElementsByTagName("text").item(0).getTextContent());
    }

    @Test
    void aWorkerBadgeCarriesTierAndScoreInTheTiersColour() throws Exception {
        String svg = Badge.svg(Badge.LABEL, Badge.message(Tier.TRUSTED, 97), Badge.colour(Tier.TRUSTED), "w");
        Document doc = parse(svg);
        assertEquals("trusted 97", doc.getElementsByTagName("text").item(3).getTextContent());
        assertTrue(svg.contains("fill=\"#44cc11\""), svg);
        assertTrue(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    }
}

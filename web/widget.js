/*! faqbot chat widget: plain JavaScript, no build step, no external requests but the faqbot host.
 *
 * Embed with one line:
 *   <script src="https://HOST/widget.js" async></script>
 * Options (data- attributes on that tag, all optional):
 *   data-api-base     faqbot host for /api/* (default: the origin widget.js came from)
 *   data-title        panel title                 data-greeting     first message
 *   data-accent       CSS colour (#4f46e5)        data-position     "right" (default) or "left"
 *   data-lang         language of the page and its questions (BCP 47; default: the page's <html lang>);
 *                     the UI speaks en, fr, de, es, it, pt, nl, pl, ru, ar, he, zh (else English),
 *                     right to left for Arabic, Hebrew, Persian and Urdu
 *   data-contact-url  http(s) link to a person, offered when there is no answer
 *
 * Safety: every string from the API or the host page goes into the DOM as text (textContent,
 * createTextNode), never as HTML; only http(s) URLs become links. The UI lives in a shadow root.
 */
(function () {
  "use strict";

  var STRINGS = {
    en: {
      title: "Ask us anything",
      subtitle: "Answers from our articles",
      greeting: "Hi! Ask me a question about our articles and I will find the passage that answers it.",
      open: "Open chat",
      close: "Close chat",
      input: "Type your question",
      placeholder: "Ask a question…",
      send: "Send",
      conversation: "Conversation",
      you: "You",
      bot: "Assistant",
      typing: "Looking for an answer…",
      starters: "Popular questions",
      source: "Source:",
      helpful: "Was this helpful?",
      yes: "Yes",
      no: "No",
      thanks: "Thanks for your feedback!",
      noAnswer: "Sorry, I couldn't find an answer to that in our articles.",
      trySuggestions: "Maybe one of these helps:",
      unsure: "Your question is close to more than one of ours. Which do you mean?",
      didYouMean: "Or did you mean:",
      contact: "Contact a person",
      networkError: "I couldn't reach the server. Check your connection and try again.",
      timeout: "The server took too long to answer. Please try again.",
      retry: "Try again",
      answered: "New answer:",
      clear: "Start over",
      poweredBy: "Powered by faqbot"
    },
    fr: {
      title: "Posez votre question",
      subtitle: "Réponses tirées de nos articles",
      greeting: "Bonjour ! Posez une question sur nos articles et je trouverai le passage qui y répond.",
      open: "Ouvrir la discussion",
      close: "Fermer la discussion",
      input: "Votre question",
      placeholder: "Posez une question…",
      send: "Envoyer",
      conversation: "Conversation",
      you: "Vous",
      bot: "Assistant",
      typing: "Recherche d'une réponse…",
      starters: "Questions fréquentes",
      source: "Source :",
      helpful: "Cette réponse vous a-t-elle aidé ?",
      yes: "Oui",
      no: "Non",
      thanks: "Merci pour votre avis !",
      noAnswer: "Désolé, je n'ai pas trouvé de réponse dans nos articles.",
      trySuggestions: "Peut-être l'une de ces questions vous aidera :",
      unsure: "Votre question est proche de plusieurs des nôtres. Laquelle voulez-vous dire ?",
      didYouMean: "Ou vouliez-vous dire :",
      contact: "Contacter une personne",
      networkError: "Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.",
      timeout: "Le serveur a mis trop de temps à répondre. Veuillez réessayer.",
      retry: "Réessayer",
      answered: "Nouvelle réponse :",
      clear: "Recommencer",
      poweredBy: "Propulsé par faqbot"
    },
    de: {
      title: "Fragen Sie uns",
      subtitle: "Antworten aus unseren Artikeln",
      greeting: "Hallo! Stellen Sie eine Frage zu unseren Artikeln, und ich suche die passende Stelle.",
      open: "Chat öffnen",
      close: "Chat schließen",
      input: "Ihre Frage",
      placeholder: "Frage eingeben…",
      send: "Senden",
      conversation: "Unterhaltung",
      you: "Sie",
      bot: "Assistent",
      typing: "Suche nach einer Antwort…",
      starters: "Häufige Fragen",
      source: "Quelle:",
      helpful: "War das hilfreich?",
      yes: "Ja",
      no: "Nein",
      thanks: "Danke für Ihr Feedback!",
      noAnswer: "Leider habe ich dazu keine Antwort in unseren Artikeln gefunden.",
      trySuggestions: "Vielleicht hilft eine dieser Fragen:",
      unsure: "Ihre Frage ähnelt mehreren unserer Fragen. Welche meinen Sie?",
      didYouMean: "Oder meinten Sie:",
      contact: "Eine Person kontaktieren",
      networkError: "Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
      timeout: "Der Server hat zu lange gebraucht. Bitte versuchen Sie es erneut.",
      retry: "Erneut versuchen",
      answered: "Neue Antwort:",
      clear: "Neu beginnen",
      poweredBy: "Bereitgestellt von faqbot"
    },
    es: {
      title: "Pregúntanos",
      subtitle: "Respuestas de nuestros artículos",
      greeting: "¡Hola! Haz una pregunta sobre nuestros artículos y buscaré el pasaje que la responde.",
      open: "Abrir chat",
      close: "Cerrar chat",
      input: "Tu pregunta",
      placeholder: "Escribe una pregunta…",
      send: "Enviar",
      conversation: "Conversación",
      you: "Tú",
      bot: "Asistente",
      typing: "Buscando una respuesta…",
      starters: "Preguntas frecuentes",
      source: "Fuente:",
      helpful: "¿Te ha sido útil?",
      yes: "Sí",
      no: "No",
      thanks: "¡Gracias por tu opinión!",
      noAnswer: "Lo siento, no encontré una respuesta en nuestros artículos.",
      trySuggestions: "Quizá te ayude una de estas:",
      unsure: "Su pregunta se parece a varias de las nuestras. ¿Cuál quiere decir?",
      didYouMean: "¿O quisiste decir:",
      contact: "Contactar con una persona",
      networkError: "No se pudo conectar con el servidor. Comprueba tu conexión e inténtalo de nuevo.",
      timeout: "El servidor tardó demasiado en responder. Inténtalo de nuevo.",
      retry: "Reintentar",
      answered: "Nueva respuesta:",
      clear: "Empezar de nuevo",
      poweredBy: "Con la tecnología de faqbot"
    },
    it: {
      title: "Chiedici qualcosa",
      subtitle: "Risposte dai nostri articoli",
      greeting: "Ciao! Fai una domanda sui nostri articoli e troverò il passaggio che risponde.",
      open: "Apri la chat",
      close: "Chiudi la chat",
      input: "La tua domanda",
      placeholder: "Fai una domanda…",
      send: "Invia",
      conversation: "Conversazione",
      you: "Tu",
      bot: "Assistente",
      typing: "Cerco una risposta…",
      starters: "Domande frequenti",
      source: "Fonte:",
      helpful: "Ti è stato utile?",
      yes: "Sì",
      no: "No",
      thanks: "Grazie per il tuo riscontro!",
      noAnswer: "Mi dispiace, non ho trovato una risposta nei nostri articoli.",
      trySuggestions: "Forse una di queste può aiutare:",
      unsure: "La tua domanda somiglia a più di una delle nostre. Quale intendi?",
      contact: "Contatta una persona",
      networkError: "Non riesco a raggiungere il server. Controlla la connessione e riprova.",
      timeout: "Il server ha impiegato troppo tempo. Riprova.",
      retry: "Riprova",
      answered: "Nuova risposta:",
      clear: "Ricomincia",
      poweredBy: "Con la tecnologia di faqbot"
    },
    pt: {
      title: "Pergunte-nos",
      subtitle: "Respostas dos nossos artigos",
      greeting: "Olá! Faça uma pergunta sobre os nossos artigos e eu encontro o trecho que responde.",
      open: "Abrir o chat",
      close: "Fechar o chat",
      input: "A sua pergunta",
      placeholder: "Faça uma pergunta…",
      send: "Enviar",
      conversation: "Conversa",
      you: "Você",
      bot: "Assistente",
      typing: "À procura de uma resposta…",
      starters: "Perguntas frequentes",
      source: "Fonte:",
      helpful: "Isto ajudou?",
      yes: "Sim",
      no: "Não",
      thanks: "Obrigado pelo seu comentário!",
      noAnswer: "Desculpe, não encontrei uma resposta nos nossos artigos.",
      trySuggestions: "Talvez uma destas ajude:",
      unsure: "A sua pergunta parece-se com várias das nossas. Qual quer dizer?",
      contact: "Falar com uma pessoa",
      networkError: "Não foi possível contactar o servidor. Verifique a ligação e tente de novo.",
      timeout: "O servidor demorou demasiado. Tente de novo.",
      retry: "Tentar de novo",
      answered: "Nova resposta:",
      clear: "Recomeçar",
      poweredBy: "Com tecnologia faqbot"
    },
    nl: {
      title: "Stel ons een vraag",
      subtitle: "Antwoorden uit onze artikelen",
      greeting: "Hallo! Stel een vraag over onze artikelen en ik zoek de passage die hem beantwoordt.",
      open: "Chat openen",
      close: "Chat sluiten",
      input: "Uw vraag",
      placeholder: "Stel een vraag…",
      send: "Versturen",
      conversation: "Gesprek",
      you: "U",
      bot: "Assistent",
      typing: "Op zoek naar een antwoord…",
      starters: "Veelgestelde vragen",
      source: "Bron:",
      helpful: "Was dit nuttig?",
      yes: "Ja",
      no: "Nee",
      thanks: "Bedankt voor uw feedback!",
      noAnswer: "Sorry, ik heb daar geen antwoord op gevonden in onze artikelen.",
      trySuggestions: "Misschien helpt een van deze:",
      unsure: "Uw vraag lijkt op meer dan één van onze vragen. Welke bedoelt u?",
      contact: "Contact met een persoon",
      networkError: "De server is niet bereikbaar. Controleer uw verbinding en probeer het opnieuw.",
      timeout: "De server deed er te lang over. Probeer het opnieuw.",
      retry: "Opnieuw proberen",
      answered: "Nieuw antwoord:",
      clear: "Opnieuw beginnen",
      poweredBy: "Mogelijk gemaakt door faqbot"
    },
    pl: {
      title: "Zapytaj nas",
      subtitle: "Odpowiedzi z naszych artykułów",
      greeting: "Cześć! Zadaj pytanie o nasze artykuły, a znajdę fragment, który na nie odpowiada.",
      open: "Otwórz czat",
      close: "Zamknij czat",
      input: "Twoje pytanie",
      placeholder: "Zadaj pytanie…",
      send: "Wyślij",
      conversation: "Rozmowa",
      you: "Ty",
      bot: "Asystent",
      typing: "Szukam odpowiedzi…",
      starters: "Częste pytania",
      source: "Źródło:",
      helpful: "Czy to pomogło?",
      yes: "Tak",
      no: "Nie",
      thanks: "Dziękujemy za opinię!",
      noAnswer: "Niestety nie znalazłem odpowiedzi w naszych artykułach.",
      trySuggestions: "Może pomoże jedno z tych pytań:",
      unsure: "Twoje pytanie przypomina kilka naszych. O które chodzi?",
      contact: "Skontaktuj się z człowiekiem",
      networkError: "Nie można połączyć się z serwerem. Sprawdź połączenie i spróbuj ponownie.",
      timeout: "Serwer odpowiadał zbyt długo. Spróbuj ponownie.",
      retry: "Spróbuj ponownie",
      answered: "Nowa odpowiedź:",
      clear: "Zacznij od nowa",
      poweredBy: "Działa dzięki faqbot"
    },
    ru: {
      title: "Задайте вопрос",
      subtitle: "Ответы из наших статей",
      greeting: "Здравствуйте! Задайте вопрос о наших статьях, и я найду отрывок, который на него отвечает.",
      open: "Открыть чат",
      close: "Закрыть чат",
      input: "Ваш вопрос",
      placeholder: "Задайте вопрос…",
      send: "Отправить",
      conversation: "Диалог",
      you: "Вы",
      bot: "Помощник",
      typing: "Ищу ответ…",
      starters: "Частые вопросы",
      source: "Источник:",
      helpful: "Это помогло?",
      yes: "Да",
      no: "Нет",
      thanks: "Спасибо за отзыв!",
      noAnswer: "К сожалению, я не нашёл ответа в наших статьях.",
      trySuggestions: "Возможно, поможет один из этих вопросов:",
      unsure: "Ваш вопрос похож на несколько наших. Какой вы имеете в виду?",
      contact: "Связаться с человеком",
      networkError: "Не удалось связаться с сервером. Проверьте подключение и попробуйте снова.",
      timeout: "Сервер отвечал слишком долго. Попробуйте снова.",
      retry: "Повторить",
      answered: "Новый ответ:",
      clear: "Начать заново",
      poweredBy: "Работает на faqbot"
    },
    ar: {
      title: "اسألنا",
      subtitle: "إجابات من مقالاتنا",
      greeting: "مرحبًا! اطرح سؤالًا عن مقالاتنا وسأجد الفقرة التي تجيب عنه.",
      open: "فتح المحادثة",
      close: "إغلاق المحادثة",
      input: "سؤالك",
      placeholder: "اكتب سؤالًا…",
      send: "إرسال",
      conversation: "المحادثة",
      you: "أنت",
      bot: "المساعد",
      typing: "جارٍ البحث عن إجابة…",
      starters: "أسئلة شائعة",
      source: "المصدر:",
      helpful: "هل كان هذا مفيدًا؟",
      yes: "نعم",
      no: "لا",
      thanks: "شكرًا على ملاحظاتك!",
      noAnswer: "عذرًا، لم أجد إجابة عن ذلك في مقالاتنا.",
      trySuggestions: "ربما يساعد أحد هذه الأسئلة:",
      unsure: "سؤالك قريب من أكثر من سؤال لدينا. أيها تقصد؟",
      contact: "التواصل مع شخص",
      networkError: "تعذّر الوصول إلى الخادم. تحقّق من اتصالك وحاول مرة أخرى.",
      timeout: "استغرق الخادم وقتًا طويلًا. حاول مرة أخرى.",
      retry: "إعادة المحاولة",
      answered: "إجابة جديدة:",
      clear: "البدء من جديد",
      poweredBy: "بدعم من faqbot"
    },
    he: {
      title: "שאלו אותנו",
      subtitle: "תשובות מהמאמרים שלנו",
      greeting: "שלום! שאלו שאלה על המאמרים שלנו ואמצא את הקטע שעונה עליה.",
      open: "פתיחת הצ'אט",
      close: "סגירת הצ'אט",
      input: "השאלה שלך",
      placeholder: "כתבו שאלה…",
      send: "שליחה",
      conversation: "שיחה",
      you: "את/ה",
      bot: "עוזר",
      typing: "מחפש תשובה…",
      starters: "שאלות נפוצות",
      source: "מקור:",
      helpful: "האם זה עזר?",
      yes: "כן",
      no: "לא",
      thanks: "תודה על המשוב!",
      noAnswer: "מצטערים, לא מצאתי תשובה לכך במאמרים שלנו.",
      trySuggestions: "אולי אחת מאלה תעזור:",
      unsure: "השאלה שלך דומה ליותר משאלה אחת שלנו. לאיזו התכוונת?",
      contact: "פנייה לנציג",
      networkError: "לא ניתן להתחבר לשרת. בדקו את החיבור ונסו שוב.",
      timeout: "השרת לא ענה בזמן. נסו שוב.",
      retry: "לנסות שוב",
      answered: "תשובה חדשה:",
      clear: "להתחיל מחדש",
      poweredBy: "מופעל על ידי faqbot"
    },
    zh: {
      title: "向我们提问",
      subtitle: "答案来自我们的文章",
      greeting: "你好！请就我们的文章提一个问题，我会找到回答它的段落。",
      open: "打开聊天",
      close: "关闭聊天",
      input: "你的问题",
      placeholder: "请输入问题…",
      send: "发送",
      conversation: "对话",
      you: "你",
      bot: "助手",
      typing: "正在查找答案…",
      starters: "常见问题",
      source: "来源：",
      helpful: "这有帮助吗？",
      yes: "是",
      no: "否",
      thanks: "感谢你的反馈！",
      noAnswer: "抱歉，我们的文章中没有找到答案。",
      trySuggestions: "也许这些问题有帮助：",
      unsure: "您的问题与我们的多个问题相近。您指的是哪一个？",
      contact: "联系人工客服",
      networkError: "无法连接服务器。请检查网络后重试。",
      timeout: "服务器响应超时。请重试。",
      retry: "重试",
      answered: "新答案：",
      clear: "重新开始",
      poweredBy: "由 faqbot 提供支持"
    }
  };

  var TIMEOUT_MS = 10000;  // then the reader gets a retry message, never a stuck spinner
  var MAX_HISTORY = 60;
  var RTL = { ar: true, he: true, fa: true, ur: true };

  // document.currentScript is set while a classic (also async) script runs; the fallback covers
  // pages that load us some other way.
  var script = document.currentScript ||
    document.querySelector("script[src$='/widget.js'], script[src*='/widget.js?']");
  if (!script || window.__faqbotWidgetLoaded) return;
  window.__faqbotWidgetLoaded = true;

  function data(name) {
    var value = script.getAttribute("data-" + name);
    return value == null ? "" : String(value).trim();
  }

  // -- configuration -------------------------------------------------------------------------

  var scriptUrl = new URL(script.src, document.baseURI);
  var apiBase = (function () {
    var given = data("api-base");
    try {
      var url = new URL(given || scriptUrl.origin, document.baseURI);
      if (url.protocol === "http:" || url.protocol === "https:") return url.href.replace(/\/+$/, "");
    } catch (e) { /* fall through to the script's origin */ }
    return scriptUrl.origin;
  })();
  // The page's language goes with each question (the server analyses it in that language).
  var pageLang = (data("lang") || document.documentElement.lang || "").trim();
  if (!/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(pageLang)) pageLang = "";
  var langName = (pageLang || "en").toLowerCase().split(/[-_]/)[0];
  var lang = STRINGS[langName] ? langName : "en";
  var t = STRINGS[lang];
  var config = {
    title: data("title") || t.title,
    greeting: data("greeting") || t.greeting,
    accent: data("accent"),
    position: data("position").toLowerCase() === "left" ? "left" : "right",
    contactUrl: safeUrl(data("contact-url"), document.baseURI)
  };
  var storageKey = "faqbot:v1:" + apiBase;

  /** Return the absolute URL if `value` resolves (against `base`) to http(s), else null. */
  function safeUrl(value, base) {
    if (!value) return null;
    try {
      var url = new URL(value, base);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // -- DOM helpers: text only, never HTML ---------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value == null || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key === "class") node.className = value;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child == null) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICONS = {
    chat: ["M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6A.5.5 0 0 1 5 19.2V16h0A2.5 2.5 0 0 1 4 13.5z"],
    close: ["M6 6l12 12", "M18 6L6 18"],
    send: ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
    link: ["M14 4h6v6", "M20 4l-9 9", "M18 14v4a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h4"],
    up: ["M7 11v9H4v-9z", "M7 11l4-8c1.5 0 2.5 1 2.5 2.5V9h5a2 2 0 0 1 2 2.3l-1.2 7A2 2 0 0 1 17.3 20H7"],
    down: ["M17 13V4h3v9z", "M17 13l-4 8c-1.5 0-2.5-1-2.5-2.5V15h-5a2 2 0 0 1-2-2.3l1.2-7A2 2 0 0 1 6.7 4H17"]
  };

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon icon-" + name);
    ICONS[name].forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  // Words as the server splits them (letters, digits, combining marks, inner apostrophes).
  var WORD = /[\p{L}\p{N}\p{M}]+(?:['\u2019][\p{L}\p{N}\p{M}]+)*/gu;
  // Scripts the server cuts into character pairs (CJK, kana, Hangul, Thai): it returns the pairs.
  var UNSPACED = /[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/;

  function normalWord(word) {
    return word.normalize("NFKC").toLowerCase().replace(/\u2019/g, "'");
  }

  /** [start, end) spans of `text` to mark: its words among `terms` (the server's matched words). */
  function matchedSpans(text, terms) {
    var spans = [];
    var match;
    WORD.lastIndex = 0;
    while ((match = WORD.exec(text)) !== null) {
      var word = match[0];
      if (terms[normalWord(word)]) {
        spans.push([match.index, match.index + word.length]);
      } else if (UNSPACED.test(word)) {
        for (var i = 0; i + 1 < word.length; i++) {  // character pairs the server matched
          if (terms[normalWord(word.slice(i, i + 2))]) spans.push([match.index + i, match.index + i + 2]);
        }
      }
    }
    return spans;
  }

  /** A fragment of `text` with the matched words wrapped in <mark> (built as DOM nodes). */
  function highlighted(text, terms) {
    var fragment = document.createDocumentFragment();
    var wanted = Object.create(null);
    (Array.isArray(terms) ? terms : []).forEach(function (w) { if (typeof w === "string") wanted[normalWord(w)] = true; });
    text = String(text);
    var last = 0;
    var mark = null;
    matchedSpans(text, wanted).forEach(function (span) {
      var start = Math.max(span[0], last);
      if (start >= span[1]) return;
      var between = text.slice(last, start);
      if (mark && (start === last || /^[ \t]+$/.test(between))) {
        mark.textContent += between + text.slice(start, span[1]);  // "open source AI" reads better as one mark
      } else {
        if (between) fragment.appendChild(document.createTextNode(between));
        mark = fragment.appendChild(el("mark", { text: text.slice(start, span[1]) }));
      }
      last = span[1];
    });
    if (last < text.length) fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  /** Whether two questions have the same words, ignoring case and punctuation. */
  function sameWords(a, b) {
    var words = function (text) { return (String(text).toLowerCase().match(/[\p{L}\p{N}]+/gu) || []).join(" "); };
    return words(a) === words(b);
  }

  function chipLabel(passage) {
    if (passage.question) return String(passage.question);
    var words = String(passage.text || "").split(/\s+/).filter(Boolean);
    return words.slice(0, 8).join(" ") + (words.length > 8 ? "…" : "");
  }

  // -- storage: the conversation survives navigation within the site ----------------------------------

  function loadHistory() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(storageKey) || "[]");
      return Array.isArray(saved) ? saved.filter(validTurn).slice(-MAX_HISTORY) : [];
    } catch (e) {
      return [];
    }
  }

  function validTurn(turn) {
    if (!turn || typeof turn.question !== "string") return false;
    if (turn.type === "answer") {
      return !!turn.answer && typeof turn.answer === "object" && (turn.alternatives == null || Array.isArray(turn.alternatives));
    }
    if (turn.type === "none") return Array.isArray(turn.results);
    if (turn.type === "unsure") return Array.isArray(turn.choices);
    return turn.type === "user" || (turn.type === "error" && typeof turn.message === "string");
  }

  function saveHistory() {
    try {
      window.sessionStorage.setItem(storageKey, JSON.stringify(turns.slice(-MAX_HISTORY)));
    } catch (e) { /* private mode or full storage: the conversation just won't survive navigation */ }
  }

  // -- network ---------------------------------------------------------------------------------

  /** Call the faqbot API; reject with a sentence to show (and .retry when trying again may help). */
  function request(path, body) {
    return new Promise(function (resolve, reject) {
      var settled = false;
      var controller = typeof AbortController === "function" ? new AbortController() : null;
      function finish(callback, value) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        callback(value);
      }
      function failure(message, retry, status) {
        var error = new Error(message);
        error.retry = retry;
        error.status = status || 0;
        return error;
      }
      // One timer covers the whole exchange, including a body that never finishes arriving.
      var timer = setTimeout(function () {
        if (controller) controller.abort();
        finish(reject, failure(t.timeout, true));
      }, TIMEOUT_MS);
      var options = { method: body ? "POST" : "GET", credentials: "omit", mode: "cors",
        signal: controller ? controller.signal : undefined };
      if (body) {
        options.headers = { "Content-Type": "application/json" };
        options.body = JSON.stringify(body);
      }
      fetch(apiBase + path, options).then(function (response) {
        if (response.status === 204) return finish(resolve, null);
        return response.json().catch(function () { return null; }).then(function (json) {
          if (response.ok && json) return finish(resolve, json);
          var message = json && typeof json.error === "string" && json.error ? json.error : t.networkError;
          var retry = response.status >= 500 || response.status === 429 || !json;
          finish(reject, failure(message, retry, response.status));
        });
      }).catch(function () {
        finish(reject, failure(t.networkError, true));
      });
    });
  }

  // -- build the UI in a shadow root ------------------------------------------------------------

  var host = document.createElement("faqbot-widget");
  host.setAttribute("data-faqbot", "");
  var shadow = host.attachShadow({ mode: "open" });
  var stylesheet = el("link", { rel: "stylesheet", href: new URL("widget.css", scriptUrl).href });

  var launcher = el("button", {
    type: "button", class: "launcher", "aria-label": t.open + ": " + config.title,
    "aria-expanded": "false", "aria-controls": "faqbot-panel", "aria-haspopup": "dialog"
  }, [icon("chat"), icon("close")]);

  var titleEl = el("h2", { id: "faqbot-title", class: "title", text: config.title });
  var closeButton = el("button", { type: "button", class: "icon-button close", "aria-label": t.close,
    title: t.close }, [icon("close")]);
  var header = el("div", { class: "header" }, [
    el("div", { class: "avatar", "aria-hidden": "true" }, [icon("chat")]),
    el("div", { class: "heading" }, [titleEl, el("p", { class: "subtitle", text: t.subtitle })]),
    closeButton
  ]);
  var log = el("ol", { class: "log", "aria-label": t.conversation, tabindex: "-1" });
  var scroller = el("div", { class: "scroller" }, [log]);
  var announcer = el("div", { class: "sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  var input = el("input", {
    id: "faqbot-input", class: "input", type: "text", autocomplete: "off", enterkeyhint: "send",
    maxlength: "1000", placeholder: t.placeholder, "aria-label": t.input
  });
  var sendButton = el("button", { type: "submit", class: "send", "aria-label": t.send, title: t.send },
    [icon("send")]);
  var form = el("form", { class: "composer", novalidate: true }, [input, sendButton]);
  var footer = el("p", { class: "footer" }, [t.poweredBy]);
  var panel = el("section", {
    id: "faqbot-panel", class: "panel", role: "dialog", "aria-modal": "true",
    "aria-labelledby": "faqbot-title", hidden: true
  }, [header, scroller, form, footer, announcer]);
  var root = el("div", { class: "root pos-" + config.position, lang: lang, dir: RTL[lang] ? "rtl" : "ltr", hidden: true },
    [panel, launcher]);
  shadow.appendChild(stylesheet);
  shadow.appendChild(root);

  // Show nothing until our stylesheet is in: no flash of an unstyled widget on the host page.
  function reveal() { root.hidden = false; }
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);

  if (config.accent && window.CSS && CSS.supports && CSS.supports("color", config.accent)) {
    host.style.setProperty("--faqbot-accent", config.accent);
    host.style.setProperty("--faqbot-on-accent", readableOn(config.accent));
  }

  /** Black or white, whichever reads better on `colour`. */
  function readableOn(colour) {
    var probe = document.createElement("span");
    probe.style.color = colour;
    probe.style.display = "none";
    shadow.appendChild(probe);
    var rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || [0, 0, 0]).map(Number);
    probe.remove();
    var lin = rgb.slice(0, 3).map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    return luminance > 0.179 ? "#111827" : "#ffffff";
  }

  function mount() {
    if (!document.body) return void document.addEventListener("DOMContentLoaded", mount);
    document.body.appendChild(host);
  }

  // -- conversation ---------------------------------------------------------------------------

  var turns = loadHistory();
  var starters = null;   // [{id, question}] once fetched
  var busy = false;
  var lastFocus = null;

  function scrollToEnd() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function announce(text) {
    announcer.textContent = "";
    // A fresh text node after a tick makes screen readers announce repeated messages too.
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function row(who, children, extraClass) {
    var item = el("li", { class: "row " + who + (extraClass ? " " + extraClass : "") }, [
      el("span", { class: "sr-only", text: (who === "user" ? t.you : t.bot) + ": " })
    ].concat(children));
    log.appendChild(item);
    return item;
  }

  function chips(questions, label) {
    var list = el("ul", { class: "chips", "aria-label": label });
    questions.forEach(function (q) {
      var button = el("button", { type: "button", class: "chip", text: q });
      button.addEventListener("click", function () { ask(q); });
      list.appendChild(el("li", null, [button]));
    });
    return list;
  }

  function renderGreeting() {
    var item = row("bot", [el("div", { class: "bubble", text: config.greeting })], "greeting");
    if (starters && starters.length && !turns.length) {
      item.appendChild(el("p", { class: "label", text: t.starters }));
      item.appendChild(chips(starters.map(function (s) { return s.question; }), t.starters));
    }
  }

  function renderUser(entry) {
    row("user", [el("div", { class: "bubble", text: entry.question })]);
  }

  function sourceLine(passage) {
    var href = safeUrl(passage.link, apiBase + "/");
    var label = String(passage.title || passage.url || "");
    if (passage.section && passage.section !== passage.title) label += " · " + passage.section;
    var target = href
      ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "source-link" },
          [label, icon("link")])
      : el("span", { class: "source-text", text: label });
    return el("p", { class: "source" }, [el("span", { class: "source-label", text: t.source + " " }), target]);
  }

  function feedbackRow(entry) {
    var box = el("div", { class: "feedback" });
    if (entry.feedback != null) {
      box.appendChild(el("p", { class: "thanks", text: t.thanks }));
      return box;
    }
    var group = el("div", { class: "feedback-buttons", role: "group", "aria-label": t.helpful });
    [[true, t.yes, "up"], [false, t.no, "down"]].forEach(function (choice) {
      var button = el("button", { type: "button", class: "vote" }, [icon(choice[2]), choice[1]]);
      button.addEventListener("click", function () { sendFeedback(entry, choice[0], box); });
      group.appendChild(button);
    });
    box.appendChild(el("span", { class: "feedback-label", "aria-hidden": "true", text: t.helpful }));
    box.appendChild(group);
    return box;
  }

  function renderAnswer(entry) {
    var passage = entry.answer;
    var bubble = el("div", { class: "bubble answer" });
    if (passage.kind === "faq" && passage.question && !sameWords(passage.question, entry.question)) {
      bubble.appendChild(el("p", { class: "faq-question", text: passage.question }));
    }
    var text = el("p", { class: "answer-text" });
    text.appendChild(highlighted(passage.text || "", entry.terms));
    bubble.appendChild(text);
    bubble.appendChild(sourceLine(passage));
    var children = [bubble];
    // Other FAQ questions that scored nearly as well: the reader picks if the answer is not the one meant.
    var close = (entry.alternatives || []).map(chipLabel).filter(Boolean);
    if (close.length) {
      children.push(el("p", { class: "label", text: t.didYouMean }));
      children.push(chips(close, t.didYouMean));
    }
    children.push(feedbackRow(entry));
    row("bot", children);
  }

  function suggestionsFor(entry) {
    // The closest FAQ questions first: a question is a better chip than the start of a paragraph.
    var matched = (entry.results || []).filter(function (p) { return p && p.score > 0; });
    var fromResults = matched.filter(function (p) { return p.kind === "faq"; })
      .concat(matched.filter(function (p) { return p.kind !== "faq"; })).map(chipLabel);
    var labels = fromResults.length ? fromResults : (starters || []).map(function (s) { return s.question; });
    var seen = Object.create(null);
    return labels.filter(function (label) {
      var key = label.toLowerCase();
      if (!label || seen[key] || key === String(entry.question).toLowerCase()) return false;
      return (seen[key] = true);
    }).slice(0, 4);
  }

  function renderNoAnswer(entry) {
    var suggestions = suggestionsFor(entry);
    var children = [el("div", { class: "bubble", text: t.noAnswer + (suggestions.length ? " " + t.trySuggestions : "") })];
    if (suggestions.length) children.push(chips(suggestions, t.trySuggestions));
    if (config.contactUrl) {
      children.push(el("a", { class: "contact", href: config.contactUrl, target: "_blank",
        rel: "noopener noreferrer" }, [t.contact, icon("link")]));
    }
    row("bot", children);
  }

  function renderUnsure(entry) {
    // Close to several FAQ questions: no answer is presented as the answer; the reader picks one.
    var choices = (entry.choices || []).map(chipLabel).filter(Boolean);
    row("bot", [el("div", { class: "bubble", text: t.unsure }), chips(choices, t.unsure)]);
  }

  function renderError(entry, live) {
    var children = [el("div", { class: "bubble error", text: entry.message })];
    if (entry.retry && live) {
      var retry = el("button", { type: "button", class: "retry", text: t.retry });
      retry.addEventListener("click", function () {
        turns.splice(turns.indexOf(entry), 1);
        turns.splice(turns.length - 1, 1);  // the question is asked (and shown) again
        saveHistory();
        render();
        ask(entry.question);
      });
      children.push(retry);
    }
    return row("bot", children, "problem");
  }

  function renderEntry(entry, live) {
    if (entry.type === "user") renderUser(entry);
    else if (entry.type === "answer") renderAnswer(entry);
    else if (entry.type === "none") renderNoAnswer(entry);
    else if (entry.type === "unsure") renderUnsure(entry);
    else if (entry.type === "error") renderError(entry, live && entry === turns[turns.length - 1]);
  }

  function render() {
    log.replaceChildren();
    renderGreeting();
    turns.forEach(function (entry) { renderEntry(entry, true); });
    scrollToEnd();
  }

  function push(entry) {
    turns.push(entry);
    saveHistory();
    renderEntry(entry, true);
    scrollToEnd();
  }

  function showTyping() {
    var dots = el("div", { class: "bubble typing", "aria-hidden": "true" },
      [el("span", { class: "dot" }), el("span", { class: "dot" }), el("span", { class: "dot" })]);
    var item = row("bot", [dots, el("span", { class: "sr-only", text: t.typing })], "typing-row");
    scrollToEnd();
    return item;
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    panel.setAttribute("aria-busy", value ? "true" : "false");
  }

  function ask(question) {
    question = String(question || "").trim();
    if (!question || busy) return;
    input.value = "";
    input.focus();  // a clicked chip or retry button may be about to disappear
    // The starter chips belong to the greeting: once the reader has asked, they are clutter.
    Array.prototype.forEach.call(log.querySelectorAll(".greeting .label, .greeting .chips"),
      function (node) { node.remove(); });
    push({ type: "user", question: question });
    setBusy(true);
    announce(t.typing);
    var typing = showTyping();
    var body = { question: question, top_k: 5 };
    if (pageLang) body.lang = pageLang;
    request("/api/ask", body).then(function (response) {
      typing.remove();
      if (response.answer) {
        var terms = Array.isArray(response.terms) ? response.terms.slice(0, 50) : [];
        push({ type: "answer", question: question, answer: pickPassage(response.answer), feedback: null, terms: terms,
          alternatives: (response.did_you_mean || []).map(pickPassage) });
        announce(t.answered + " " + String(response.answer.text || ""));
      } else if (response.uncertain && Array.isArray(response.results) && response.results.length) {
        push({ type: "unsure", question: question,
          choices: [response.results[0]].concat(response.did_you_mean || []).map(pickPassage) });
        announce(t.unsure);
      } else {
        push({ type: "none", question: question, results: (response.results || []).map(pickPassage) });
        announce(t.noAnswer);
      }
    }, function (error) {
      typing.remove();
      push({ type: "error", question: question, message: error.message || t.networkError, retry: !!error.retry });
      announce(error.message || t.networkError);
    }).then(function () {
      setBusy(false);
    });
  }

  /** Keep only the fields we show, so sessionStorage stays small. */
  function pickPassage(p) {
    return { id: p.id, kind: p.kind, question: p.question, text: p.text, title: p.title,
      section: p.section, url: p.url, link: p.link, score: p.score };
  }

  function sendFeedback(entry, helpful, box) {
    entry.feedback = helpful;
    saveHistory();
    var thanks = el("p", { class: "thanks", text: t.thanks });
    box.replaceChildren(thanks);
    thanks.setAttribute("tabindex", "-1");
    thanks.focus();  // the pressed button is gone: keep focus inside the panel
    announce(t.thanks);
    request("/api/feedback", { question: entry.question, passage_id: String(entry.answer.id), helpful: helpful })
      .catch(function () { /* feedback is best effort; the reader is not bothered with it */ });
  }

  function loadStarters() {
    if (starters !== null) return;
    starters = [];
    request("/api/starters?limit=4").then(function (response) {
      starters = (response && Array.isArray(response.questions) ? response.questions : [])
        .filter(function (q) { return q && typeof q.question === "string" && q.question; });
      if (!turns.length) render();
    }, function () { /* no starters: the reader can still type */ });
  }

  // -- open, close, keyboard ----------------------------------------------------------------------

  function isOpen() { return !panel.hidden; }

  function open() {
    if (isOpen()) return;
    lastFocus = launcher;
    panel.hidden = false;
    root.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t.close);
    render();
    loadStarters();
    input.focus();
  }

  function close() {
    if (!isOpen()) return;
    panel.hidden = true;
    root.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", t.open + ": " + config.title);
    (lastFocus || launcher).focus();
  }

  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("a[href], button:not([disabled]), input:not([disabled]), [tabindex='0']"),
      function (node) { return node.getClientRects().length > 0; }
    );
  }

  launcher.addEventListener("click", function () { if (isOpen()) close(); else open(); });
  closeButton.addEventListener("click", close);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    ask(input.value);
  });

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
      return;
    }
    if (event.key !== "Tab") return;
    var items = focusables();
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var current = shadow.activeElement;
    if (event.shiftKey && (current === first || items.indexOf(current) === -1)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (current === last || items.indexOf(current) === -1)) {
      event.preventDefault();
      first.focus();
    }
  });

  // A click or focus that lands outside the open panel (e.g. the host page) comes back in.
  document.addEventListener("focusin", function (event) {
    if (isOpen() && event.target !== host && window.matchMedia("(max-width: 479.98px)").matches) {
      input.focus();
    }
  });

  mount();
})();

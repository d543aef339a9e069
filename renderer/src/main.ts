import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createAppI18n } from './i18n.ts';
import { createAppRouter } from './router.ts';
import { connectBridgeEvents } from './events.ts';
import { installRouteFocus } from './route-focus.ts';
import './styles/main.css';
import './styles/narrow.css';
import './styles/groups.css';
import './styles/attachments.css';

const pinia = createPinia();
const router = createAppRouter(pinia);
installRouteFocus(router);
const app = createApp(App).use(pinia).use(createAppI18n()).use(router);
// Events reach the stores for the whole life of the window.
connectBridgeEvents();
app.mount('#app');
